import { expect, test } from '@playwright/test';
import { EntityPage } from '../pages/entity-page';

/** Each kind of the bundled catalog has the page a Backstage user would recognise. */

test('a Group page shows its profile, place in the organisation, members and ownership', async ({ page }) => {
  const entity = new EntityPage(page);
  await entity.goto('default', 'group', 'payments');
  await expect(entity.tabs.getByRole('link')).toHaveText(['Overview', 'Kubernetes']);
  const profile = page.getByRole('region', { name: 'Payments' });
  await expect(profile.getByRole('link', { name: 'payments@acme.example' })).toHaveAttribute('href', 'mailto:payments@acme.example');
  await expect(profile).toContainText('Parent group');
  await expect(profile.getByRole('link', { name: 'ACME Retail' })).toBeVisible();
  const members = page.getByRole('region', { name: 'Members (2)' });
  await expect(members.getByRole('link', { name: /Diego Ramírez|Erin Walsh/ })).toHaveCount(2);
  await expect(members.getByRole('link', { name: 'erin.walsh@acme.example' })).toBeVisible();

  // Each ownership count links to the catalog filtered to it.
  const ownership = page.getByRole('region', { name: 'Ownership' });
  await ownership.getByRole('link', { name: '4 service components' }).click();
  await expect(page).toHaveURL(/\/catalog\?kind=component&type=service&owner=group%3Adefault%2Fpayments$/);
  await expect(page.getByRole('table').locator('tbody tr')).toHaveCount(4);
});

test('a User page shows their groups and what they own through them', async ({ page }) => {
  const entity = new EntityPage(page);
  await entity.goto('default', 'user', 'ivan-petrov');
  await expect(page.getByRole('region', { name: 'Ivan Petrov' }).getByRole('link', { name: 'data' })).toBeVisible();
  const ownership = page.getByRole('region', { name: 'Ownership' });
  await expect(ownership.getByRole('heading', { name: 'Through data' })).toBeVisible();
  await expect(ownership.getByRole('heading', { name: 'Through platform' })).toBeVisible();
  await expect(ownership.getByRole('link', { name: '2 job components' })).toBeVisible();
  // Not a workload: no Kubernetes tab.
  await expect(entity.tab('Kubernetes')).toHaveCount(0);
});

test('System, Domain and Resource pages list their parts and dependents', async ({ page }) => {
  const entity = new EntityPage(page);
  await entity.goto('default', 'system', 'payment-processing');
  await expect(entity.tabs.getByRole('link')).toHaveText(['Overview', 'Kubernetes', 'Diagram']);
  const components = page.getByRole('region', { name: 'Components' });
  await expect(components.locator('tbody tr')).toHaveCount(4);
  await expect(page.getByRole('region', { name: 'APIs' }).locator('tbody tr')).toHaveCount(3);
  await expect(page.getByRole('region', { name: 'Resources' }).getByRole('link', { name: 'payments-db' })).toBeVisible();
  // The about card does not ask a System for a lifecycle.
  await expect(page.getByRole('region', { name: 'About' })).not.toContainText('Lifecycle');
  await entity.tab('Diagram').click();
  await expect(page.getByRole('heading', { name: 'System diagram' })).toBeVisible();

  await entity.goto('default', 'domain', 'commerce');
  await expect(page.getByRole('region', { name: 'Systems' }).locator('tbody tr')).toHaveCount(2);

  await entity.goto('default', 'resource', 'payments-db');
  const dependents = page.getByRole('region', { name: 'Depended on by' });
  await expect(dependents.getByRole('link', { name: 'Payment gateway' })).toBeVisible();
});

test('a Component has API and Dependencies tabs as Backstage shows them', async ({ page }) => {
  const entity = new EntityPage(page);
  await entity.goto('default', 'component', 'checkout-service');
  await expect(entity.tabs.getByRole('link')).toHaveText(['Overview', 'Kubernetes', 'API', 'Dependencies']);
  await entity.tab('API').click();
  await expect(page).toHaveURL(/\/checkout-service\/api$/);
  await expect(page.getByRole('region', { name: 'Provided APIs' }).getByRole('link', { name: 'Order events' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Consumed APIs' }).locator('tbody tr')).toHaveCount(2);
  await entity.tab('Dependencies').click();
  await expect(page.getByRole('region', { name: 'Depends on' }).getByRole('link', { name: 'order-events-topic' })).toBeVisible();
  // A component without the annotations has no Kubernetes tab.
  await entity.goto('default', 'component', 'web-ui-kit');
  await expect(entity.tab('Kubernetes')).toHaveCount(0);
});

test('API definitions are rendered for people: OpenAPI, AsyncAPI, GraphQL and gRPC', async ({ page }) => {
  const entity = new EntityPage(page);
  await entity.goto('default', 'api', 'cart-api');
  await expect(entity.tabs.getByRole('link')).toHaveText(['Overview', 'Definition']);
  await expect(page.getByRole('region', { name: 'Consumers' }).locator('tbody tr')).toHaveCount(3);
  await entity.tab('Definition').click();
  const operations = page.getByRole('region', { name: 'Operations (4)' });
  const get = operations.locator('details').filter({ hasText: 'GET /carts/{cartId}' });
  await get.locator('summary').click();
  await expect(get.getByRole('table', { name: 'Parameters' })).toContainText('cartId');
  await expect(get.getByRole('table', { name: 'Responses' })).toContainText('The cart (Cart)');

  await entity.goto('default', 'api', 'order-events', 'definition');
  const channels = page.getByRole('region', { name: 'Channels (1)' });
  await expect(channels).toContainText('orders.v1');
  await channels.locator('details.schema-type').filter({ hasText: 'OrderPlaced' }).locator('summary').click();
  await expect(channels.getByRole('table', { name: 'Fields' }).first()).toContainText('customerId');

  await entity.goto('default', 'api', 'product-catalog-graphql', 'definition');
  const product = page
    .locator('details.schema-type')
    .filter({ has: page.locator('summary code', { hasText: /^Product$/ }) });
  await product.locator('summary').click();
  await expect(product.getByRole('table', { name: 'Fields' })).toContainText('[Image!]!');

  await entity.goto('default', 'api', 'payments-grpc', 'definition');
  await expect(page.locator('pre.source .tok-keyword', { hasText: 'service' }).first()).toBeVisible();
  await expect(page.locator('pre.source')).toContainText('rpc Authorize(AuthorizeRequest) returns (Payment);');
});

test('a kind without a page of its own shows every spec field', async ({ page }) => {
  const entity = new EntityPage(page);
  await entity.goto('default', 'location', 'acme-example');
  const spec = page.getByRole('region', { name: 'Spec' });
  await expect(spec.getByRole('row').first()).toContainText('spec.targets[0]');
  await expect(spec).toContainText('./org.yaml');
});

test('the APIs explorer lists APIs by type and lifecycle', async ({ page }) => {
  await page.goto('/api-docs');
  await expect(page.getByRole('heading', { level: 1, name: 'APIs' })).toBeVisible();
  await expect(page.getByRole('status')).toHaveText('5 APIs');
  await page.getByLabel('Type').selectOption('openapi');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/\/api-docs\?type=openapi/);
  await expect(page.getByRole('status')).toHaveText('2 APIs');
  await page.getByRole('link', { name: 'Cart API', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Cart API' })).toBeVisible();
});
