import { expect, test } from '@playwright/test';
import * as path from 'node:path';
import { control, KubernetesTab } from '../pages/kubernetes-tab';

// Screenshots go to the ignored test-results folder; the README's images (end2end/screenshots)
// are refreshed on purpose, with GREENROOM_README_SCREENSHOTS=1.
const screenshots =
  process.env.GREENROOM_README_SCREENSHOTS === '1'
    ? path.join(__dirname, '..', 'screenshots')
    : path.join(__dirname, '..', 'test-results', 'screenshots');

test('a healthy service shows its pods running on each cluster', async ({ page }) => {
  const tab = new KubernetesTab(page);
  await tab.goto('storefront-web');
  const eu = tab.cluster('greenroom-demo');
  await expect(eu.getByText('3 pods', { exact: true })).toBeVisible();
  await expect(eu.getByText('no pods with errors')).toBeVisible();
  const deployment = tab.workload('greenroom-demo', 'Deployment storefront-web');
  await expect(deployment.getByText('3/3 ready')).toBeVisible();
  await expect(tab.podRows(deployment)).toHaveCount(3);
  await expect(deployment.locator('.chip', { hasText: 'Running' })).toHaveCount(3);
  await expect(eu.getByRole('link', { name: /shop\.acme-retail\.example/ }).first()).toBeVisible();
  await expect(tab.podRows(tab.workload('demo-us', 'Deployment storefront-web'))).toHaveCount(2);
  await expect(page.getByText('No problems detected.')).toBeVisible();
  await page.screenshot({ path: path.join(screenshots, 'kubernetes-tab-healthy.png'), fullPage: true });
});

test('a crash loop is explained and its previous logs are one click away', async ({ page }) => {
  const tab = new KubernetesTab(page);
  await tab.goto('checkout-service');
  await expect(tab.errorReporting.getByText('has crashed many times, it will be exponentially restarted').first()).toBeVisible();
  const deployment = tab.workload('greenroom-demo', 'Deployment checkout-service');
  await expect(deployment.locator('.chip', { hasText: 'CrashLoopBackOff' })).toHaveCount(2);
  await tab.openPod(deployment);
  await expect(tab.panel.getByText('Waiting: CrashLoopBackOff')).toBeVisible();
  await tab.panel.getByLabel('Previous container').check();
  await expect(tab.logs).toContainText('PAYMENTS_GRPC_ADDR not set');
  await page.screenshot({ path: path.join(screenshots, 'kubernetes-tab-crash-loop.png') });
});

test('an image that cannot be pulled says so and how to fix it', async ({ page }) => {
  const tab = new KubernetesTab(page);
  await tab.goto('fraud-scoring');
  await expect(tab.workload('greenroom-demo', 'Deployment fraud-scoring').locator('.chip', { hasText: 'ImagePullBackOff' })).toBeVisible();
  await expect(tab.errorReporting.getByText('The image either could not be found or Kubernetes does not have permission to pull it').first()).toBeVisible();
  await expect(tab.errorReporting.getByText('Ensure Kubernetes has permission to pull this image').first()).toBeVisible();
});

test('OOMKilled restarts are counted and explained', async ({ page }) => {
  const tab = new KubernetesTab(page);
  await tab.goto('payment-gateway');
  await expect(tab.errorReporting.getByText(/container=payment-gateway restarted \d+ times/)).toBeVisible();
  await expect(tab.errorReporting.getByText('has crashed because it has tried to use more memory that it has been allocated')).toBeVisible();
  await tab.openPod(tab.workload('greenroom-demo', 'Deployment payment-gateway'));
  await expect(tab.panel.getByText(/Last termination: OOMKilled, exit code 137/)).toBeVisible();
});

test('an autoscaler at its maximum is reported', async ({ page }) => {
  const tab = new KubernetesTab(page);
  await tab.goto('product-catalog');
  await expect(tab.errorReporting.getByText('Current number of replicas (4) is equal to the configured max number of replicas (4)')).toBeVisible();
  const deployment = tab.workload('greenroom-demo', 'Deployment product-catalog');
  await expect(deployment.getByText('at max replicas')).toBeVisible();
  await expect(tab.podRows(deployment)).toHaveCount(4);
});

test('an entity without the annotation shows what to add and where to read about labels', async ({ page }) => {
  const tab = new KubernetesTab(page);
  await tab.goto('web-ui-kit');
  await expect(page.getByText('Missing annotation.')).toBeVisible();
  await expect(page.getByText('backstage.io/kubernetes-id: my-service')).toBeVisible();
  await expect(page.getByText("backstage.io/kubernetes-label-selector: 'app=my-app,component=front-end'")).toBeVisible();
  await page.getByRole('link', { name: 'How Greenroom matches objects' }).click();
  await expect(page.getByText('From Greenroom\'s README:')).toBeVisible();
  await expect(page.locator('pre.readme')).toContainText('must be on the workload **and** its pod template');
});

test('a cluster that rejects the token and one that is down are banners beside a healthy cluster', async ({ page }) => {
  const tab = new KubernetesTab(page);
  await control('PUT', '/clusters/demo-us/faults', { unauthorized: true });
  await control('PUT', '/clusters/backstage-tutorial-cluster/faults', { refuse: true });
  try {
    await tab.goto('storefront-web');
    await expect(tab.cluster('demo-us').getByRole('alert')).toContainText("rejected Greenroom's credentials (401 Unauthorized)");
    await expect(tab.cluster('backstage-tutorial-cluster').getByRole('alert')).toContainText('could not be read: connection refused');
    await expect(tab.podRows(tab.workload('greenroom-demo', 'Deployment storefront-web'))).toHaveCount(3);
  } finally {
    await control('PUT', '/clusters/demo-us/faults', {});
    await control('PUT', '/clusters/backstage-tutorial-cluster/faults', {});
  }
});

test('a cluster that changes between the page load and hydration hydrates the page first, then shows the change', async ({ page }) => {
  const tab = new KubernetesTab(page);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  // The wasm is held until a cluster has changed, so the first live update differs from the
  // markup the server sent; it must not reach the page before that markup is hydrated.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/pkg/greenroom.wasm', async (route) => {
    await held;
    await route.continue();
  });
  try {
    await page.goto('/catalog/default/component/storefront-web/kubernetes');
    await expect(page.getByText('No problems detected.')).toBeVisible();
    await control('PUT', '/clusters/demo-us/faults', { unauthorized: true });
    await page.waitForTimeout(1500);
    release();
    await tab.shell.waitForHydration();
    await expect(tab.cluster('demo-us').getByRole('alert')).toContainText("rejected Greenroom's credentials (401 Unauthorized)");
    await expect(tab.podRows(tab.workload('greenroom-demo', 'Deployment storefront-web'))).toHaveCount(3);
    expect(errors).toEqual([]);
  } finally {
    release();
    await control('PUT', '/clusters/demo-us/faults', {});
  }
});

test('following a log shows a new line as it is written', async ({ page }) => {
  const tab = new KubernetesTab(page);
  await tab.goto('storefront-web');
  const pod = await tab.openPod(tab.workload('greenroom-demo', 'Deployment storefront-web'));
  await expect(tab.logs).toBeVisible();
  await tab.panel.getByLabel('Follow').check();
  const line = `checkout button clicked ${Date.now()}`;
  await control('POST', `/clusters/greenroom-demo/pods/storefront/${pod}/log`, { line });
  await expect(tab.logs).toContainText(line);
});

test('logs read well: first in the panel, wrapped, short timestamps, search, follow that sticks to the newest line', async ({ page }) => {
  const tab = new KubernetesTab(page);
  await tab.goto('storefront-web');
  const deployment = tab.workload('greenroom-demo', 'Deployment storefront-web');
  // A pod that never restarted: no "Previous container" to offer.
  const rows = tab.podRows(deployment);
  let index = -1;
  for (let i = 0; i < (await rows.count()); i++) {
    if ((await rows.nth(i).locator('td').nth(4).textContent())?.trim() === '0') index = i;
  }
  expect(index).toBeGreaterThanOrEqual(0);
  const pod = await tab.openPod(deployment, index);
  await expect(tab.panel.getByText('Running since')).toBeVisible();
  await expect(tab.panel.getByLabel('Previous container')).toHaveCount(0);
  // Logs come before the pod's details.
  const order = await tab.panel.locator('h4').allTextContents();
  expect(order.indexOf('Logs')).toBeLessThan(order.indexOf('Conditions'));
  // Enough lines to scroll, with one to search for.
  const marker = `needle-${Date.now()}`;
  for (let i = 0; i < 40; i++) {
    await control('POST', `/clusters/greenroom-demo/pods/storefront/${pod}/log`, { line: i === 20 ? `found the ${marker} here` : `GET /health 200 ${i}` });
  }
  await tab.panel.getByLabel('Follow').check();
  const follow = tab.panel.locator('.log-follow');
  await expect(follow).toContainText('Following');
  await expect(tab.logs).toContainText(marker);
  // Wrapped, with the time of day.
  await expect(tab.logs).toHaveClass(/\bwrap\b/);
  await expect(tab.logs.locator('.ts').first()).toHaveText(/^\d\d:\d\d:\d\d$/);
  await tab.panel.getByLabel('Timestamps').selectOption('full');
  await expect(tab.logs.locator('.ts').first()).toHaveText(/^\d{4}-\d\d-\d\dT.*Z$/);
  await tab.panel.getByLabel('Timestamps').selectOption('hidden');
  await expect(tab.logs.locator('.ts')).toHaveCount(0);
  await tab.panel.getByLabel('Wrap lines').uncheck();
  await expect(tab.logs).not.toHaveClass(/\bwrap\b/);
  // Sticks to the newest line; scrolling up pauses, and "Jump to newest" counts what came.
  const atBottom = () => tab.logs.evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 8);
  await expect.poll(atBottom).toBe(true);
  await tab.logs.evaluate((el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); });
  await expect(follow).toContainText('Paused');
  await control('POST', `/clusters/greenroom-demo/pods/storefront/${pod}/log`, { line: 'one more' });
  await expect(follow).toContainText('1 new line below');
  await follow.getByRole('button', { name: 'Jump to newest' }).click();
  await expect.poll(atBottom).toBe(true);
  await expect(follow).toContainText('Following');
  // Search keeps the matching lines, marked.
  await tab.panel.getByLabel('Search in the log').fill(marker.toUpperCase());
  await expect(tab.panel.getByRole('status').filter({ hasText: 'lines match' })).toHaveText(/^1 of \d+ lines match$/);
  await expect(tab.logs.locator('.log-line')).toHaveCount(1);
  await expect(tab.logs.locator('mark')).toHaveText(marker);
});

test('the open pod panel survives data updates and a page reload', async ({ page }) => {
  const tab = new KubernetesTab(page);
  await tab.goto('storefront-web');
  const deployment = tab.workload('greenroom-demo', 'Deployment storefront-web');
  const pod = await tab.openPod(deployment, 1);
  await expect(page).toHaveURL(new RegExp(`[?&]pod=greenroom-demo/storefront/${pod}$`));
  // Two updates of the tab's data (pushed: a label on another pod changes twice) leave the panel open.
  const other = (await deployment.locator('a.pod-link').first().textContent()) ?? '';
  const data = page.locator('.kubernetes-data');
  for (const value of ['a', 'b']) {
    const seen = Number(await data.getAttribute('data-updates'));
    await control('PATCH', `/clusters/greenroom-demo/objects/pods/storefront/${other}`, { metadata: { labels: { 'greenroom.test/touched': value } } });
    await expect.poll(async () => Number(await data.getAttribute('data-updates'))).toBeGreaterThan(seen);
  }
  await expect(tab.panel.getByRole('heading', { name: `Pod ${pod}` })).toBeVisible();
  await page.reload();
  await tab.shell.waitForHydration();
  await expect(tab.panel.getByRole('heading', { name: `Pod ${pod}` })).toBeVisible();
  await expect(tab.panel.getByText('Running since')).toBeVisible();
});

test('bare pods and standalone jobs are listed', async ({ page }) => {
  const tab = new KubernetesTab(page);
  await tab.goto('sre-toolbox');
  await expect(tab.podRows(tab.workload('greenroom-demo', 'Pod sre-toolbox'))).toHaveCount(1);
  await tab.goto('warehouse-backfill');
  const job = tab.workload('greenroom-demo', 'Job warehouse-backfill');
  await expect(job.getByText('Complete (3/3)')).toBeVisible();
  await expect(tab.podRows(job)).toHaveCount(3);
});

test('the Kubernetes tab shows its pods without JavaScript, in the first response', async ({ browser, request }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const response = await page.goto('/catalog/default/component/storefront-web/kubernetes');
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle(/^Storefront web · Kubernetes \| /);
  const tab = new KubernetesTab(page);
  const deployment = tab.workload('greenroom-demo', 'Deployment storefront-web');
  await expect(deployment.getByText('3/3 ready')).toBeVisible();
  await expect(tab.podRows(deployment)).toHaveCount(3);
  await expect(tab.podRows(tab.workload('demo-us', 'Deployment storefront-web'))).toHaveCount(2);
  await expect(page.getByText('Loading cluster data')).toHaveCount(0);
  // A Group's tab too: its components' health.
  await page.goto('/catalog/default/group/data/kubernetes');
  await expect(page.locator('tr[data-component="component:default/event-collector"] .chip')).toHaveText(/Healthy|Degraded|Failing/);
  await context.close();
  // The rows are in the HTML the server sends (no script fills them in), and an unknown entity's
  // tab is still a 404.
  const html = await (await request.get('/catalog/default/component/storefront-web/kubernetes')).text();
  expect(html).toContain('class="k8s pods"');
  expect((await request.get('/catalog/default/component/no-such-thing/kubernetes')).status()).toBe(404);
});
