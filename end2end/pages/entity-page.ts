import { type Locator, type Page } from '@playwright/test';
import { Shell } from './shell';

/** `/catalog/:namespace/:kind/:name[/tab]` */
export class EntityPage {
  readonly page: Page;
  readonly shell: Shell;
  readonly tabs: Locator;

  constructor(page: Page) {
    this.page = page;
    this.shell = new Shell(page);
    this.tabs = page.getByRole('navigation', { name: 'Entity sections' });
  }

  async goto(namespace: string, kind: string, name: string, tab = ''): Promise<void> {
    await this.page.goto(`/catalog/${namespace}/${kind}/${name}${tab ? `/${tab}` : ''}`);
  }

  tab(name: string): Locator {
    return this.tabs.getByRole('link', { name });
  }
}
