import { expect, test, type Page } from '@playwright/test';
import { EntityPage } from '../pages/entity-page';
import { Shell } from '../pages/shell';

/** Fails the test on any console error or uncaught exception (e.g. a wasm that will not load). */
function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

test('the page is server-rendered: content and title are there without JavaScript', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const response = await page.goto('/catalog');
  expect(response?.status()).toBe(200);
  await expect(page.getByRole('heading', { level: 1, name: 'Catalog' })).toBeVisible();
  await expect(page).toHaveTitle('Catalog | Greenroom');
  await expect(new Shell(page).brand).toHaveText('Greenroom');
  await context.close();
});

test('the page hydrates: the navigation toggle works only once the wasm has run', async ({ page, browser }) => {
  const errors = watchForErrors(page);
  await page.goto('/catalog');
  const shell = new Shell(page);
  await shell.waitForHydration();
  await expect(shell.navToggle).toHaveAttribute('aria-expanded', 'true');
  await expect(shell.sidebar).toBeVisible();

  await shell.navToggle.click();
  await expect(shell.navToggle).toHaveAttribute('aria-expanded', 'false');
  await expect(shell.navToggle).toHaveText(/Show navigation/);
  await expect(shell.sidebar).toBeHidden();

  await shell.navToggle.click();
  await expect(shell.sidebar).toBeVisible();
  expect(errors).toEqual([]);

  // Control: without the wasm the same click changes nothing, so the assertions above can only
  // pass on a hydrated page.
  const noJs = await browser.newContext({ javaScriptEnabled: false });
  const staticPage = await noJs.newPage();
  await staticPage.goto('/catalog');
  const staticShell = new Shell(staticPage);
  await staticShell.navToggle.click();
  await expect(staticShell.navToggle).toHaveAttribute('aria-expanded', 'true');
  await expect(staticShell.sidebar).toBeVisible();
  await noJs.close();
});

test('links navigate on the client, without reloading the document', async ({ page }) => {
  const errors = watchForErrors(page);
  const entity = new EntityPage(page);
  await entity.goto('default', 'component', 'example1');
  await entity.shell.waitForHydration();
  await expect(entity.tab('Overview')).toHaveAttribute('aria-current', 'page');

  const documentLoads: string[] = [];
  page.on('request', (req) => {
    if (req.resourceType() === 'document') documentLoads.push(req.url());
  });
  // A full page load would drop this value.
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

  await entity.tab('Kubernetes').click();
  await expect(page).toHaveURL(/\/catalog\/default\/component\/example1\/kubernetes$/);
  await expect(page.getByRole('heading', { level: 2, name: 'Kubernetes' })).toBeVisible();
  await expect(entity.tab('Kubernetes')).toHaveAttribute('aria-current', 'page');

  await entity.shell.navLink('Catalog').click();
  await expect(page).toHaveURL(/\/catalog$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Catalog' })).toBeVisible();
  await expect(page).toHaveTitle('Catalog | Greenroom');

  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  expect(documentLoads).toEqual([]);
  expect(errors).toEqual([]);
});

test('an unknown address shows a 404 page with status 404', async ({ page }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
  await expect(page).toHaveTitle('Page not found | Greenroom');
});

test('the root address leads to the catalog', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/catalog$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Catalog' })).toBeVisible();
});

test("a page downloads its own code only: the catalog does not fetch the Kubernetes tab's until it is opened", async ({ page }) => {
  const errors = watchForErrors(page);
  const wasm: string[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('.wasm')) wasm.push(new URL(r.url()).pathname);
  });
  await page.goto('/catalog');
  const shell = new Shell(page);
  await shell.waitForHydration();
  expect(wasm).toContain('/pkg/greenroom.wasm');
  expect(wasm.filter((f) => f.includes('_catalog_view_')).length).toBeGreaterThan(0);
  expect(wasm.filter((f) => f.includes('_kubernetes_view_'))).toEqual([]);
  // A client-side navigation loads the next page's module (once), then the page works.
  await page.locator('main a[href="/catalog/default/component/storefront-web"]').first().click();
  await expect(page.getByRole('heading', { level: 1, name: 'Storefront web' })).toBeVisible();
  await page.getByRole('link', { name: 'Kubernetes', exact: true }).click();
  await expect(page.locator('table.pods').first()).toBeVisible();
  expect(wasm.filter((f) => f.includes('_kubernetes_view_')).length).toBe(1);
  await page.locator('a.pod-link').first().click();
  await expect(page.getByRole('dialog')).toBeVisible();
  // No module is downloaded twice (a preload the loader does not reuse would be).
  expect(new Set(wasm).size).toBe(wasm.length);
  expect(errors).toEqual([]);
});
