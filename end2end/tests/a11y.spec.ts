import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { Shell } from '../pages/shell';
import { KubernetesTab } from '../pages/kubernetes-tab';

/**
 * Everyone can use the portal: axe-core finds no serious or critical violation on any page, at
 * a phone's width and a desktop's; no page scrolls sideways on a phone; the keyboard reaches
 * everything, and the pod panel behaves as a dialog.
 */

const pages = [
  '/catalog',
  '/catalog?kind=api',
  '/catalog/default/component/checkout-service',
  '/catalog/default/component/checkout-service/dependencies',
  '/catalog/default/system/payment-processing/diagram',
  '/catalog/default/group/payments',
  '/catalog/default/user/ada-okafor',
  '/catalog/default/api/cart-api/definition',
  '/catalog/default/group/data/kubernetes',
  '/search?q=cart',
  '/api-docs',
  '/clusters',
  '/catalog-problems',
  '/catalog-import',
];

async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
}

async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

const runs: { width: number; scheme: 'light' | 'dark' }[] = [
  { width: 390, scheme: 'light' },
  { width: 1280, scheme: 'light' },
  // The dark theme, as the system asks for it (prefers-color-scheme).
  { width: 1280, scheme: 'dark' },
];

for (const { width, scheme } of runs) {
  test(`no serious accessibility violations at ${width} px in the ${scheme} theme, and no sideways scrolling`, async ({ page }) => {
    test.setTimeout(120_000);
    await page.setViewportSize({ width, height: 900 });
    await page.emulateMedia({ colorScheme: scheme });
    const shell = new Shell(page);
    // Every page is checked before the verdict, so one run lists every problem.
    const problems: string[] = [];
    const check = async (what: string) => {
      // The page is in the theme under test (the dark page background is #0f1419).
      const dark = (await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)) === 'rgb(15, 20, 25)';
      if (dark !== (scheme === 'dark')) problems.push(`${what}: not in the ${scheme} theme`);
      problems.push(...(await seriousViolations(page)).map((v) => `${what}: ${v}`));
      const overflow = await horizontalOverflow(page);
      if (overflow > 0) problems.push(`${what}: scrolls sideways by ${overflow} px`);
    };
    for (const path of pages) {
      await page.goto(path);
      await shell.waitForHydration();
      await check(path);
    }
    // The Kubernetes tab with its pod panel open.
    const tab = new KubernetesTab(page);
    await tab.goto('storefront-web');
    await tab.openPod(tab.workload('greenroom-demo', 'Deployment storefront-web'));
    await expect(tab.logs).toBeVisible();
    await check('Kubernetes tab with the pod panel');
    expect(problems).toEqual([]);
  });
}

test('no page scrolls sideways at 768, 1024 and 1440 px', async ({ page }) => {
  test.setTimeout(120_000);
  const shell = new Shell(page);
  const problems: string[] = [];
  for (const width of [768, 1024, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    for (const path of [...pages, '/catalog/default/component/storefront-web/kubernetes']) {
      await page.goto(path);
      await shell.waitForHydration();
      const overflow = await horizontalOverflow(page);
      if (overflow > 0) problems.push(`${path} at ${width} px: scrolls sideways by ${overflow} px`);
    }
  }
  expect(problems).toEqual([]);
});

test('the theme switch: dark at once, kept for the next page (rendered by the server), back to the system', async ({ page, context }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto('/catalog');
  const shell = new Shell(page);
  await shell.waitForHydration();
  const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  const light = await background();
  const theme = page.getByLabel('Theme');
  await expect(theme).toHaveValue('');
  await theme.selectOption('dark');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  expect(await background()).not.toBe(light);
  expect((await context.cookies()).find((c) => c.name === 'greenroom_theme')?.value).toBe('dark');
  // The server renders the next page dark: no flash of the light theme.
  const html = await (await page.request.get('/clusters')).text();
  expect(html).toMatch(/<html[^>]*data-theme="dark"/);
  await page.goto('/clusters');
  await shell.waitForHydration();
  await expect(page.getByLabel('Theme')).toHaveValue('dark');
  expect(await background()).not.toBe(light);
  // "System" follows prefers-color-scheme again and forgets the choice.
  await page.getByLabel('Theme').selectOption('');
  await expect(page.locator('html')).toHaveAttribute('data-theme', '');
  expect(await background()).toBe(light);
  expect((await context.cookies()).find((c) => c.name === 'greenroom_theme')).toBeUndefined();
});

test('the keyboard alone: skip link, filters, and the pod panel as a dialog', async ({ page }) => {
  await page.goto('/catalog');
  const shell = new Shell(page);
  await shell.waitForHydration();
  // The first Tab reaches the skip link; it moves focus to the main content.
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('main')).toBeFocused();
  // The next Tab is inside the main content, past the header and the navigation.
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.querySelector('main')!.contains(document.activeElement))).toBe(true);

  // Filters apply as they are chosen, to a clean URL.
  const filters = page.getByRole('form', { name: 'Filters' });
  await filters.getByLabel('Type', { exact: true }).focus();
  await filters.getByLabel('Type', { exact: true }).selectOption('job');
  await expect(page).toHaveURL(/\/catalog\?kind=component&type=job$/);
  await expect(page.getByRole('table').locator('tbody tr')).toHaveCount(2);

  // The pod panel: focus moves in, Escape closes it, focus returns to the pod, no jump.
  const tab = new KubernetesTab(page);
  await tab.goto('storefront-web');
  // The title names the tab.
  await expect(page).toHaveTitle(/ · Kubernetes \| Greenroom$/);
  const link = tab.workload('greenroom-demo', 'Deployment storefront-web').locator('a.pod-link').first();
  const name = ((await link.textContent()) ?? '').trim();
  await link.scrollIntoViewIfNeeded();
  const before = await page.evaluate(() => window.scrollY);
  await link.focus();
  await page.keyboard.press('Enter');
  await expect(tab.panel.getByRole('heading', { name: `Pod ${name}` })).toBeFocused();
  await expect(tab.panel).toHaveAttribute('aria-modal', 'true');
  // Tab stays inside the dialog.
  for (let i = 0; i < 25; i++) await page.keyboard.press('Tab');
  expect(await tab.panel.evaluate((el) => el.contains(document.activeElement))).toBe(true);
  await page.keyboard.press('Escape');
  await expect(tab.panel).toHaveCount(0);
  await expect(tab.workload('greenroom-demo', 'Deployment storefront-web').locator(`a.pod-link:text-is("${name}")`)).toBeFocused();
  expect(Math.abs((await page.evaluate(() => window.scrollY)) - before)).toBeLessThan(5);
});

test('on a phone the navigation is a drawer behind a menu button', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto('/catalog');
  const shell = new Shell(page);
  await shell.waitForHydration();
  await expect(shell.sidebar).toBeHidden();
  const menu = page.getByRole('button', { name: 'Menu' });
  await expect(menu).toHaveAttribute('aria-expanded', 'false');
  await menu.click();
  await expect(shell.sidebar).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(shell.sidebar).toBeHidden();
  await menu.click();
  await shell.navLink('Clusters').click();
  await expect(page).toHaveURL(/\/clusters$/);
  await expect(shell.sidebar).toBeHidden();
  // After a client-side navigation focus is on the new page's heading.
  await expect(page.getByRole('heading', { level: 1, name: 'Clusters' })).toBeFocused();
});
