import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CatalogPage } from '../pages/catalog-page';
import { EntityPage } from '../pages/entity-page';

/** `catalog/local/*.yaml` is a live location in app-config.yaml (relative to end2end/). */
const localDir = path.join(__dirname, '..', '..', 'catalog', 'local');
const written: string[] = [];

function writeLocal(name: string, text: string): void {
  const file = path.join(localDir, name);
  fs.writeFileSync(file, text);
  if (!written.includes(file)) written.push(file);
}

test.afterEach(() => {
  for (const file of written.splice(0)) fs.rmSync(file, { force: true });
});

test('the catalog lists Components by default and filters by type, kind and text', async ({ page }) => {
  const catalog = new CatalogPage(page);
  await catalog.goto();
  await catalog.shell.waitForHydration();
  await expect(catalog.summary).toHaveText('Showing 1–14 of 14 entities');
  await expect(catalog.filter('Kind')).toHaveValue('component');

  await catalog.filter('Type').selectOption('job');
  await catalog.apply();
  await expect(page).toHaveURL(/[?&]type=job(&|$)/);
  await expect(catalog.nameLinks()).toHaveText(['Order events ETL', 'Warehouse backfill']);

  await catalog.filter('Type').selectOption('');
  await catalog.filter('Kind').selectOption('api');
  await catalog.apply();
  await expect(catalog.summary).toHaveText('Showing 1–5 of 5 entities');

  // Free text searches names, titles, descriptions, tags and owners, across kinds.
  await catalog.filter('Kind').selectOption('');
  await catalog.filter('Search').fill('fraud');
  await catalog.apply();
  await expect(page).toHaveURL(/[?&]q=fraud(&|$)/);
  await expect(catalog.table.locator('tbody tr')).toHaveCount(3);
  await catalog.filter('Kind').selectOption('component');
  await catalog.apply();
  await expect(catalog.nameLinks()).toHaveText(['Fraud scoring']);
});

test('filter state lives in the URL, so a filtered view can be shared and reloaded', async ({ page }) => {
  const catalog = new CatalogPage(page);
  await catalog.goto('?kind=component&owner=group%3Adefault%2Fdata&lifecycle=production');
  await expect(catalog.nameLinks()).toHaveText(['Event collector', 'Order events ETL']);
  await expect(catalog.filter('Owner')).toHaveValue('group:default/data');
  await expect(catalog.filter('Lifecycle')).toHaveValue('production');
});

test('the entity overview shows the about card, relations, labels and annotations', async ({ page }) => {
  const entity = new EntityPage(page);
  await entity.goto('default', 'component', 'checkout-service');
  await expect(page.getByRole('heading', { level: 1, name: 'Checkout service' })).toBeVisible();
  await expect(page).toHaveTitle('Checkout service | Greenroom');
  const about = page.getByRole('region', { name: 'About' });
  await expect(about).toContainText('Turns a cart into an order');
  await expect(about.getByRole('link', { name: 'Payment processing' })).toBeVisible();
  await expect(about.getByRole('link', { name: 'Commerce' })).toBeVisible();
  await expect(about.getByRole('link', { name: 'Runbook' })).toHaveAttribute('href', /^https:\/\//);
  const relations = page.getByRole('region', { name: 'Relations', exact: true });
  await expect(relations.getByRole('link', { name: 'Cart API' })).toHaveAttribute('href', '/catalog/default/api/cart-api');
  const annotations = page.getByRole('table', { name: 'Annotations' });
  await expect(annotations.getByRole('row', { name: /backstage\.io\/kubernetes-id\s+checkout-service/ })).toBeVisible();
});

test('relation links navigate to the related entity', async ({ page }) => {
  const entity = new EntityPage(page);
  await entity.goto('default', 'component', 'checkout-service');
  await entity.shell.waitForHydration();
  await page.getByRole('region', { name: 'Relations', exact: true }).getByRole('link', { name: 'Payment processing' }).click();
  await expect(page).toHaveURL(/\/catalog\/default\/system\/payment-processing$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Payment processing' })).toBeVisible();
  // The system lists its parts; follow one back to a component.
  await page.getByRole('region', { name: 'Relations', exact: true }).getByRole('link', { name: 'Fraud scoring' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Fraud scoring' })).toBeVisible();
});

test('an API shows its definition text beneath the rendered definition', async ({ page }) => {
  const entity = new EntityPage(page);
  await entity.goto('default', 'api', 'cart-api', 'definition');
  const definition = page.getByRole('region', { name: 'Definition text (openapi)' });
  await definition.locator('summary').click();
  await expect(definition.locator('pre')).toContainText('openapi: 3.0.3');
});

test('an unknown entity is a 404 page that names it', async ({ page }) => {
  const response = await page.goto('/catalog/default/component/does-not-exist');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1, name: 'Entity not found' })).toBeVisible();
  await expect(page.getByText('The catalog has no entity component:default/does-not-exist')).toBeVisible();
});

test('the problems page shows an invalid entity with its file, field and reason', async ({ page }) => {
  writeLocal(
    'e2e-invalid.yaml',
    'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: not a valid name\nspec:\n  type: service\n  lifecycle: production\n  owner: guest\n',
  );
  await expect(async () => {
    await page.goto('/catalog-problems');
    await expect(page.getByRole('row', { name: /e2e-invalid\.yaml/ })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  const row = page.getByRole('row', { name: /e2e-invalid\.yaml/ });
  await expect(row).toContainText('metadata.name');
  await expect(row).toContainText('not a valid name');
  await expect(row).toContainText('Error');
  // Everything else is still served.
  await page.goto('/catalog');
  await expect(new CatalogPage(page).summary).toHaveText('Showing 1–14 of 14 entities');
  await expect(page.getByRole('link', { name: /catalog problem/ })).toBeVisible();
});

test('a catalog file added, edited and removed on disk shows up without a restart', async ({ page }) => {
  const entity = (description: string) =>
    `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: live-reload-probe\n  description: ${description}\nspec:\n  type: service\n  lifecycle: experimental\n  owner: platform\n`;
  const catalog = new CatalogPage(page);
  writeLocal('e2e-live.yaml', entity('first version'));
  await expect(async () => {
    await catalog.goto('?q=live-reload-probe');
    await expect(catalog.table).toContainText('first version', { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });

  writeLocal('e2e-live.yaml', entity('second version'));
  await expect(async () => {
    await catalog.goto('?q=live-reload-probe');
    await expect(catalog.table).toContainText('second version', { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });

  fs.rmSync(path.join(localDir, 'e2e-live.yaml'));
  await expect(async () => {
    await catalog.goto('?q=live-reload-probe');
    await expect(catalog.summary).toHaveText('No entities match these filters.', { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
});

test('the relations graph is server-rendered SVG whose nodes link to the related entities', async ({ browser }) => {
  // Without JavaScript: the graph is part of the server's HTML.
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/catalog/default/component/checkout-service');
  // A named group (not an image), so its links are reachable; each says its relation.
  const graph = page.getByRole('group', { name: 'Relations of Checkout service' });
  await expect(graph).toBeVisible();
  await expect(graph.getByRole('link', { name: 'Part of: Payment processing' })).toHaveAttribute('href', '/catalog/default/system/payment-processing');
  await graph.getByRole('link', { name: /Payment processing/ }).click();
  await expect(page).toHaveURL(/\/catalog\/default\/system\/payment-processing$/);
  await context.close();
});
