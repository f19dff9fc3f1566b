import { expect, test } from '@playwright/test';
import { EntityPage } from '../pages/entity-page';
import { control, KubernetesTab } from '../pages/kubernetes-tab';

/** A team lead sees in one place which of the team's services are unhealthy. */

test("a Group's Kubernetes tab shows each component's health and follows a change in the cluster", async ({ page }) => {
  // The pods of event-collector (a StatefulSet of the data team), from its own tab.
  const tab = new KubernetesTab(page);
  await tab.goto('event-collector');
  const set = tab.workload('greenroom-demo', 'StatefulSet event-collector');
  await expect(tab.podRows(set)).toHaveCount(3);
  const pod = (await set.locator('a.pod-link').first().textContent())!.trim();

  const entity = new EntityPage(page);
  await entity.goto('default', 'group', 'data', 'kubernetes');
  await expect(entity.tab('Kubernetes')).toHaveAttribute('aria-current', 'page');
  const row = page.locator('tr[data-component="component:default/event-collector"]');
  await expect(row.getByRole('link', { name: 'Event collector', exact: true })).toBeVisible();
  await expect(row.locator('td').nth(2)).toHaveText('3/3');
  const restartsBefore = Number(await row.locator('td').nth(3).textContent());
  // Health is words, with the reason for screen readers and as a tooltip.
  await expect(row.locator('.chip')).toHaveText(/Healthy|Degraded/);
  await expect(row.locator('.chip')).toHaveAttribute('title', /pods ready/);
  await expect(page.getByRole('status').filter({ hasText: 'components:' })).toContainText('3 components');

  // A restart in the cluster reaches the open tab on its next refresh (2 s in the e2e config).
  await control('POST', `/clusters/greenroom-demo/pods/data/${pod}/restart`);
  await expect(row.locator('td').nth(3)).toHaveText(String(restartsBefore + 1), { timeout: 10_000 });
  await expect(row.locator('.chip')).toHaveText(/Degraded/);
  await expect(row.locator('td').nth(4)).toContainText(pod);

  await row.getByRole('link', { name: 'Kubernetes tab of Event collector' }).click();
  await expect(page).toHaveURL(/\/component\/event-collector\/kubernetes$/);
});

test('a System shows its failing components with the worst problem', async ({ page }) => {
  const entity = new EntityPage(page);
  await entity.goto('default', 'system', 'payment-processing', 'kubernetes');
  const fraud = page.locator('tr[data-component="component:default/fraud-scoring"]');
  await expect(fraud.locator('.chip')).toHaveText(/Failing/);
  await expect(fraud.locator('td').nth(2)).toHaveText('0/1');
  await expect(fraud.locator('td').nth(4)).not.toBeEmpty();
  await expect(page.locator('tr[data-component]')).toHaveCount(4);
});

test('a Domain aggregates its systems, and a Group without annotated components says so', async ({ page }) => {
  const entity = new EntityPage(page);
  await entity.goto('default', 'domain', 'commerce', 'kubernetes');
  await expect(page.locator('tr[data-component="component:default/checkout-service"]')).toBeVisible();
  await expect(page.locator('tr[data-component="component:default/storefront-web"]')).toBeVisible();
  await entity.goto('default', 'group', 'acme', 'kubernetes');
  await expect(page.getByText('No component of this group has the backstage.io/kubernetes-id')).toBeVisible();
});

test("the catalog list's health column follows a change in the cluster", async ({ page }) => {
  // The article's example: a healthy 1-replica Deployment.
  const tab = new KubernetesTab(page);
  await tab.goto('example1');
  const deployment = tab.workload('greenroom-demo', 'Deployment backstage');
  await expect(tab.podRows(deployment)).toHaveCount(1);
  const pod = (await deployment.locator('a.pod-link').first().textContent())!.trim();

  await page.goto('/catalog?kind=component');
  const table = page.getByRole('table');
  await expect(table.getByRole('columnheader', { name: 'Health' })).toBeVisible();
  const row = (name: string) => table.locator('tbody tr').filter({ has: page.getByRole('link', { name, exact: true }) });
  await expect(row('example1').locator('.chip')).toHaveText(/Healthy/);
  await expect(row('example1').locator('.chip')).toHaveAttribute('title', /^All \d+ pods ready$/);
  await expect(row('Fraud scoring').locator('.chip')).toHaveText(/Failing/);
  // No Kubernetes annotations: nothing to assess.
  await expect(row('Web UI kit').locator('.health-cell')).toBeEmpty();

  // The open list follows the cluster: its health cells refresh (2 s in the e2e config).
  await control('POST', `/clusters/greenroom-demo/pods/backstage/${pod}/restart`);
  await expect(row('example1').locator('.chip')).toHaveText(/Degraded/, { timeout: 10_000 });
  await expect(row('example1').getByText(/problem\(s\) detected/)).toBeAttached();
});
