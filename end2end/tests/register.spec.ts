import { expect, test, type Page } from '@playwright/test';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * "Register an existing component" (/catalog-import) end to end: catalog-info files served by a
 * loopback HTTP server on the port app-config.e2e.yaml allows (backend.reading.allow), analyzed,
 * imported, and unregistered from the entity page.
 */
const port = Number(process.env.GREENROOM_E2E_FILES_PORT ?? 7131);
const base = `http://127.0.0.1:${port}`;

const files: Record<string, string> = {
  '/good/catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: register-e2e
  title: Register E2E service
spec:
  type: service
  lifecycle: experimental
  owner: group:default/payments
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: register-e2e-api
spec:
  type: openapi
  lifecycle: experimental
  owner: group:default/payments
  definition: "openapi: 3.0.0"
`,
  '/bad/catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: register-e2e-bad
spec:
  type: service
  owner: group:default/payments
`,
  // Names an entity the bundled catalog already has.
  '/existing/catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout-service
spec:
  type: service
  lifecycle: production
  owner: group:default/payments
`,
};

let server: http.Server;

test.beforeAll(async () => {
  server = http.createServer((req, res) => {
    const body = files[req.url ?? ''];
    if (body === undefined) {
      res.writeHead(404).end();
    } else {
      res.writeHead(200, { 'content-type': 'text/yaml' }).end(body);
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  expect((server.address() as AddressInfo).port).toBe(port);
});

test.afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function analyze(page: Page, url: string): Promise<void> {
  await page.getByLabel('Repository or file URL').fill(url);
  await page.getByRole('button', { name: 'Analyze' }).click();
  await expect(page.getByRole('heading', { name: 'Analysis' })).toBeVisible();
}

test('a valid file is analyzed, imported and lands on its entity; unregistering removes it', async ({ page }) => {
  await page.goto('/catalog');
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Register a component' }).click();
  await expect(page).toHaveURL(/\/catalog-import$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Register an existing component');

  // A folder URL: the portal looks for catalog-info.yaml in it.
  await analyze(page, `${base}/good`);
  await expect(page.locator('.register-target')).toHaveText(`${base}/good/catalog-info.yaml`);
  await expect(page.locator('.register-summary')).toHaveText('2 entities will be added to the catalog.');
  const rows = page.locator('.register-entities tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: 'component:default/register-e2e' })).toContainText('New');

  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page).toHaveURL(/\/catalog\/default\/(api|component)\/register-e2e/);
  await page.goto('/catalog/default/component/register-e2e');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Register E2E service');

  // Analyzing it again says it is registered, and offers no import.
  await page.goto('/catalog-import');
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await analyze(page, `${base}/good/catalog-info.yaml`);
  await expect(page.locator('.register-summary')).toHaveText(
    'This file is registered already: its entities are in the catalog.',
  );
  await expect(page.getByRole('button', { name: 'Import' })).toHaveCount(0);
  await expect(rows.filter({ hasText: 'component:default/register-e2e' })).toContainText('Already in the catalog');

  // Unregister from the entity page: the confirmation lists what goes with it.
  await page.goto('/catalog/default/component/register-e2e');
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await page.getByRole('button', { name: 'Unregister location' }).click();
  const confirm = page.getByRole('group', { name: 'Unregister this location?' });
  await expect(confirm).toBeVisible();
  await expect(confirm).toContainText(`${base}/good/catalog-info.yaml`);
  await expect(confirm.getByRole('link')).toHaveCount(2);
  await expect(confirm).toContainText('register-e2e-api');
  await confirm.getByRole('button', { name: 'Unregister', exact: true }).click();
  await expect(page).toHaveURL(/\/catalog$/);
  const gone = await page.request.get('/api/catalog/entities/by-name/component/default/register-e2e');
  expect(gone.status()).toBe(404);
  const locations = await (await page.request.get('/api/catalog/locations')).json();
  expect(locations).toEqual([]);
});

test('an invalid file shows why per entity and cannot be imported', async ({ page }) => {
  await page.goto('/catalog-import');
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await analyze(page, `${base}/bad/catalog-info.yaml`);
  await expect(page.locator('.register-summary')).toHaveText(
    '1 of 1 entities would be refused; fix them in the file, then analyze again.',
  );
  const row = page.locator('.register-entities tbody tr');
  await expect(row).toContainText('Invalid');
  await expect(row.locator('.register-errors')).toContainText('lifecycle');
  await expect(page.getByRole('button', { name: 'Import' })).toHaveCount(0);

  // A file that does not exist: the reason, in words.
  await analyze(page, `${base}/missing/catalog-info.yaml`);
  await expect(page.locator('.register-summary')).toHaveText('The file cannot be imported as it is:');
  await expect(page.locator('.register-problems')).toContainText('404');
});

test('an entity that is already in the catalog is flagged with a link to it', async ({ page }) => {
  await page.goto('/catalog-import');
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await analyze(page, `${base}/existing/catalog-info.yaml`);
  const row = page.locator('.register-entities tbody tr');
  await expect(row).toContainText('Already in the catalog');
  await expect(row.getByRole('link')).toHaveAttribute('href', '/catalog/default/component/checkout-service');
  await expect(page.locator('.register-summary')).toHaveText(
    'Every entity in this file is already in the catalog (read from another location); importing it would add nothing.',
  );
  await expect(page.getByRole('button', { name: 'Import' })).toHaveCount(0);
});
