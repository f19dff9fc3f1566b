import { expect, test, type Page } from '@playwright/test';
import { signInAtIdp } from '../pages/idp';
import { KubernetesTab } from '../pages/kubernetes-tab';

/**
 * Permissions end to end on the sign-in portal (app-config.e2e-oidc.yaml with the policy files
 * in rbac/): developers read the catalog and the Kubernetes tab, only owners read pod details
 * and logs, the payments team sees one cluster. Signs in through the real OpenID provider.
 */
const portal = process.env.GREENROOM_E2E_OIDC_URL;
if (!portal) {
  throw new Error('GREENROOM_E2E_OIDC_URL is not set: run the permission tests through scripts/dev.sh e2e or test');
}

async function signIn(page: Page, login: string): Promise<void> {
  await page.goto(`${portal}/catalog`);
  await page.getByRole('link', { name: /OpenID Connect/ }).click();
  await signInAtIdp(page, login);
  await expect(page).toHaveURL(`${portal}/catalog`);
}

async function openTab(page: Page, component: string): Promise<KubernetesTab> {
  const tab = new KubernetesTab(page);
  await page.goto(`${portal}/catalog/default/component/${component}/kubernetes`);
  await tab.shell.waitForHydration();
  return tab;
}

test('a developer sees what they own, reads its logs, and is told where they have no access', async ({ page }) => {
  await signIn(page, 'diego-ramirez');

  // "Owned by me": the payments team's components, nobody else's.
  await page.getByLabel(/Owned by me/).check();
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/[?&]user=owned/);
  const row = (name: string) => page.locator(`table.entities tbody a[href="/catalog/default/component/${name}"]`);
  await expect(row('checkout-service')).toHaveCount(1);
  await expect(row('storefront-web')).toHaveCount(0);
  await expect(page.getByLabel(/Owned by me \(\d+\)/)).toBeChecked();

  // An owned service: one cluster visible (the other is hidden by policy), logs readable.
  let tab = await openTab(page, 'checkout-service');
  await expect(page.getByTestId('hidden-clusters')).toContainText(/\d+ clusters? (is|are) not shown: you don't have access/);
  await expect(tab.cluster('greenroom-demo')).toBeVisible();
  await expect(tab.cluster('demo-us')).toHaveCount(0);
  await tab.openPod(tab.workload('greenroom-demo', 'Deployment checkout-service'));
  await tab.panel.getByLabel('Previous container').check();
  await expect(tab.logs).toContainText('PAYMENTS_GRPC_ADDR not set');

  // Another team's service: the tab's data, but the pod panel says there is no access.
  tab = await openTab(page, 'storefront-web');
  const pod = await tab.openPod(tab.workload('greenroom-demo', 'Deployment storefront-web'));
  await expect(tab.panel.getByTestId('no-access')).toContainText("You don't have access to the details, events, YAML and logs of component:default/storefront-web's pods");
  await expect(tab.panel.getByRole('heading', { name: 'Logs' })).toBeHidden();
  // The REST routes enforce the same.
  const download = await page.request.get(
    `${portal}/api/greenroom/kubernetes/logs?entity=component%3Adefault%2Fstorefront-web&cluster=greenroom-demo&namespace=storefront&pod=${pod}`,
  );
  expect(download.status()).toBe(403);
  const clusters = await (await page.request.get(`${portal}/api/kubernetes/clusters`)).json();
  expect(clusters.items.map((c: { name: string }) => c.name)).toEqual(['greenroom-demo']);

  await page.goto(`${portal}/catalog`);
  await page.locator('details.user-menu summary').click();
  await page.locator('details.user-menu').getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in/);
});

test('a super user of the platform team reads every pod', async ({ page }) => {
  await signIn(page, 'ada-okafor');
  const tab = await openTab(page, 'storefront-web');
  await expect(page.getByTestId('hidden-clusters')).toHaveCount(0);
  await tab.openPod(tab.workload('greenroom-demo', 'Deployment storefront-web'));
  await expect(tab.panel.getByTestId('no-access')).toHaveCount(0);
  await expect(tab.logs).toBeVisible();
});
