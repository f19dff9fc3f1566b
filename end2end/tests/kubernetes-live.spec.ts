import { expect, test, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { control, KubernetesTab } from '../pages/kubernetes-tab';

/** The server function the tab polls with when it has no live stream. */
const POLL = '/api/get_kubernetes_view';
/** How many changes the latency measurement makes. */
const CHANGES = 20;
/** Restarts make pods count as erroring, so these tests use an entity no other test asserts on. */
const ENTITY = 'cart-service';
const WORKLOAD = 'Deployment cart';

/** The times the page asked for the tab's data by polling. */
function pollsOf(page: Page): number[] {
  const polls: number[] = [];
  page.on('request', (r) => {
    if (r.url().includes(POLL)) polls.push(Date.now());
  });
  return polls;
}

test('changes in the cluster are pushed to an open tab, which does not poll meanwhile', async ({ page }) => {
  const polls = pollsOf(page);
  const tab = new KubernetesTab(page);
  await tab.goto(ENTITY);
  const data = page.locator('.kubernetes-data');
  await expect(data).toHaveAttribute('data-live', 'push');
  await expect(data.getByText('Live: changes in the clusters appear as they happen')).toBeVisible();
  const deployment = tab.workload('greenroom-demo', WORKLOAD);
  await expect(tab.podRows(deployment)).toHaveCount(2);
  const pods = await deployment.locator('a.pod-link').allTextContents();
  const pollsWhenConnected = polls.length;
  const started = Date.now();

  // Restart containers one after another; each time, time from the control call to the new
  // count on screen (checked on every animation frame in the page).
  const latencies: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const pod = pods[i % pods.length];
    const cell = `tr[data-pod="${pod}"] td:nth-child(5)`;
    const before = Number(await page.locator(cell).first().textContent());
    const t0 = Date.now();
    await control('POST', `/clusters/greenroom-demo/pods/storefront/${pod}/restart`);
    await page.waitForFunction(
      ([sel, want]) => Number(document.querySelector(sel as string)?.textContent) >= (want as number),
      [cell, before + 1],
      { polling: 'raf', timeout: 10_000 },
    );
    latencies.push(Date.now() - t0);
  }
  // Stay connected for two refresh intervals (2 s in the e2e config): still no polling.
  const refreshMs = 2000;
  const waited = Date.now() - started;
  if (waited < 2 * refreshMs) await page.waitForTimeout(2 * refreshMs - waited);
  expect(polls.length, 'polls while the live stream was open').toBe(pollsWhenConnected);
  await expect(data).toHaveAttribute('data-live', 'push');

  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * p))];
  const summary = { changes: sorted.length, p50Ms: at(0.5), p95Ms: at(0.95), maxMs: sorted[sorted.length - 1] };
  console.log(`live update latency (control API → tab shows it): ${JSON.stringify(summary)}`);
  fs.mkdirSync(path.join(__dirname, '..', 'test-results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, '..', 'test-results', 'live-latency.json'), JSON.stringify({ ...summary, latenciesMs: latencies }, null, 2));
});

test('without the live stream the tab falls back to polling', async ({ page }) => {
  await page.route('**/api/greenroom/kubernetes/live**', (route) => route.abort());
  const polls = pollsOf(page);
  const tab = new KubernetesTab(page);
  await tab.goto(ENTITY);
  const data = page.locator('.kubernetes-data');
  const deployment = tab.workload('greenroom-demo', WORKLOAD);
  await expect(tab.podRows(deployment)).toHaveCount(2);
  await expect(data).toHaveAttribute('data-live', 'poll');
  await expect(data.getByText('Refreshed every 2 s')).toBeVisible();
  const pod = (await deployment.locator('a.pod-link').first().textContent()) ?? '';
  const cell = deployment.locator(`tr[data-pod="${pod}"] td:nth-child(5)`);
  const before = Number(await cell.textContent());
  await control('POST', `/clusters/greenroom-demo/pods/storefront/${pod}/restart`);
  await expect(cell).toHaveText(String(before + 1));
  // The first data came with the page; the change can only have come by a poll.
  expect(polls.length).toBeGreaterThanOrEqual(1);
});
