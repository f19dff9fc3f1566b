import { type Locator, type Page } from '@playwright/test';
import { Shell } from './shell';

/** `/catalog`: the entity list with its filter form. */
export class CatalogPage {
  readonly page: Page;
  readonly shell: Shell;
  readonly filters: Locator;
  readonly table: Locator;
  readonly summary: Locator;

  constructor(page: Page) {
    this.page = page;
    this.shell = new Shell(page);
    this.filters = page.getByRole('form', { name: 'Filters' });
    this.table = page.getByRole('table');
    this.summary = page.locator('.result-summary');
  }

  async goto(query = ''): Promise<void> {
    await this.page.goto(`/catalog${query}`);
  }

  filter(label: string): Locator {
    return this.filters.getByLabel(label, { exact: true });
  }

  async apply(): Promise<void> {
    await this.filters.getByRole('button', { name: 'Apply filters' }).click();
  }

  /** Links in the Name column, in order. */
  nameLinks(): Locator {
    return this.table.locator('tbody tr td:first-child a');
  }
}
