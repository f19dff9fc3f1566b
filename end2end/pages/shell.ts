import { expect, type Locator, type Page } from '@playwright/test';

/** The chrome around every page: header, navigation toggle, sidebar. */
export class Shell {
  readonly page: Page;
  readonly navToggle: Locator;
  readonly sidebar: Locator;
  readonly brand: Locator;

  constructor(page: Page) {
    this.page = page;
    this.navToggle = page.getByRole('button', { name: /navigation/ });
    this.sidebar = page.getByRole('navigation', { name: 'Main' });
    this.brand = page.getByRole('banner').getByRole('link').first();
  }

  /** Resolves once the WASM bundle has hydrated the server-rendered page. */
  async waitForHydration(): Promise<void> {
    await expect(this.page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  }

  navLink(name: string): Locator {
    return this.sidebar.getByRole('link', { name, exact: true });
  }
}
