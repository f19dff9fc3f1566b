import { expect, type Locator, type Page } from '@playwright/test';
import { Shell } from './shell';

/** `/catalog/default/component/:name/kubernetes` and its pod panel. */
export class KubernetesTab {
  readonly page: Page;
  readonly shell: Shell;
  readonly errorReporting: Locator;
  readonly panel: Locator;
  readonly logs: Locator;

  constructor(page: Page) {
    this.page = page;
    this.shell = new Shell(page);
    this.errorReporting = page.getByRole('region', { name: 'Error reporting' });
    this.panel = page.getByRole('dialog');
    this.logs = this.panel.getByLabel('Log lines');
  }

  async goto(component: string, query = ''): Promise<void> {
    await this.page.goto(`/catalog/default/component/${component}/kubernetes${query}`);
    await this.shell.waitForHydration();
  }

  /** A cluster's section, by its name. */
  cluster(name: string): Locator {
    return this.page.locator(`details.cluster[data-cluster="${name}"]`);
  }

  /** A workload card, by kind and name ("Deployment storefront-web"). */
  workload(cluster: string, kindAndName: string): Locator {
    return this.cluster(cluster).getByRole('region', { name: `${kindAndName} on ${cluster}`, exact: true });
  }

  podRows(scope: Locator): Locator {
    return scope.locator('table.pods tbody tr');
  }

  async openPod(scope: Locator, index = 0): Promise<string> {
    const link = scope.locator('a.pod-link').nth(index);
    const name = (await link.textContent()) ?? '';
    await link.click();
    await expect(this.panel.getByRole('heading', { name: `Pod ${name}` })).toBeVisible();
    return name;
  }
}

/** The demo clusters' control API (started by scripts/dev.sh e2e). */
export async function control(method: string, path: string, body?: unknown): Promise<Response> {
  const base = process.env.DEMO_CONTROL_URL;
  if (!base) throw new Error('DEMO_CONTROL_URL is not set: run the suite with scripts/dev.sh e2e');
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response;
}
