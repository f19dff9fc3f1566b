import { expect, test } from '@playwright/test';
import { control } from '../pages/kubernetes-tab';

/** A platform engineer sees each cluster's health and which workloads no one has catalogued. */

test('the Clusters page lists each cluster with its health, namespaces and unclaimed workloads', async ({ page }) => {
  await page.goto('/clusters');
  await expect(page.getByRole('heading', { level: 1, name: 'Clusters' })).toBeVisible();
  const demo = page.locator('section[data-cluster="greenroom-demo"]');
  await expect(demo.getByRole('heading', { level: 2 })).toContainText('greenroom-demo');
  // Health in words, with the reason beside it.
  await expect(demo.locator('.cluster-health .chip')).toHaveText(/Healthy/);
  await expect(demo.locator('.cluster-health')).toContainText(/Watching \d+ object types, \d+ objects/);
  await expect(demo.locator('.cluster-stats .coverage')).toContainText(/workloads claimed by the catalog/);

  // Labelled for Backstage but never catalogued: the snippet is its kubernetes-id.
  const invoice = demo.locator('tr[data-workload="data/invoice-renderer"]');
  await expect(invoice.getByRole('rowheader')).toContainText('invoice-renderer Deployment');
  await invoice.getByText('Annotations for invoice-renderer').click();
  await expect(invoice.locator('pre.snippet')).toHaveText('backstage.io/kubernetes-id: invoice-renderer');
  // Only recommended labels: a label selector, pinned to its namespace.
  const ledger = demo.locator('tr[data-workload="data/nightly-ledger-export"]');
  await expect(ledger.getByRole('rowheader')).toContainText('CronJob');
  await expect(ledger.locator('pre.snippet')).toHaveText(
    "backstage.io/kubernetes-label-selector: 'app.kubernetes.io/name=nightly-ledger-export'\nbackstage.io/kubernetes-namespace: data",
  );
  await expect(demo.locator('tr[data-workload="kube-system/coredns"]')).toBeVisible();
  // Claimed workloads are not listed: by kubernetes-id, and by cart-service's label selector.
  await expect(demo.locator('tr[data-workload="payments/payment-gateway"]')).toHaveCount(0);
  await expect(demo.locator('tr[data-workload^="storefront/cart"]')).toHaveCount(0);
  // Namespaces with their pods and workloads.
  await demo.locator('details.namespaces > summary').click();
  await expect(demo.locator('details.namespaces').getByRole('rowheader', { name: 'payments', exact: true })).toBeVisible();

  const us = page.locator('section[data-cluster="demo-us"]');
  await expect(us.locator('tr[data-workload="storefront/edge-proxy"] pre.snippet')).toHaveText(
    "backstage.io/kubernetes-label-selector: 'app=edge-proxy'\nbackstage.io/kubernetes-namespace: storefront",
  );
});

test('a workload deployed to a cluster shows up as unclaimed, from the watch cache', async ({ page }) => {
  const name = `e2e-orphan-${Date.now()}`;
  await control('POST', '/clusters/greenroom-demo/apply', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', labels: { team: 'nobody' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { team: 'nobody' } },
      template: {
        metadata: { labels: { team: 'nobody' } },
        spec: { containers: [{ name: 'app', image: 'busybox:1.36' }] },
      },
    },
  });
  try {
    const row = page.locator(`section[data-cluster="greenroom-demo"] tr[data-workload="default/${name}"]`);
    await expect(async () => {
      await page.goto('/clusters');
      await expect(row).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 10_000 });
    // No label to select it by: the snippet comes with what else to do.
    await expect(row.locator('pre.snippet')).toHaveText(`backstage.io/kubernetes-id: ${name}`);
    await expect(row).toContainText('also label the workload and its pod template');
  } finally {
    await control('DELETE', `/clusters/greenroom-demo/objects/deployments/default/${name}`);
  }
});

test('the Clusters page works without JavaScript', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/clusters');
  await expect(page.locator('section[data-cluster="greenroom-demo"] tr[data-workload="data/invoice-renderer"]')).toBeVisible();
  await context.close();
});
