import { expect, test } from '@playwright/test';
import { signInAtIdp } from '../pages/idp';

/**
 * Sign-in end to end against a real OpenID provider (oidc/idp.mjs: the `oidc-provider` package
 * with its development login and consent pages) and a portal configured for it
 * (app-config.e2e-oidc.yaml). scripts/dev.sh e2e starts both and sets GREENROOM_E2E_OIDC_URL.
 */
const portal = process.env.GREENROOM_E2E_OIDC_URL;
if (!portal) {
  throw new Error('GREENROOM_E2E_OIDC_URL is not set: run the sign-in tests through scripts/dev.sh e2e or test');
}

test('anonymous visitors are sent to sign-in and APIs refuse them', async ({ page, request }) => {
  const entity = `${portal}/catalog/default/component/checkout-service`;
  await page.goto(entity);
  await expect(page).toHaveURL(/\/sign-in\?redirect=%2Fcatalog%2Fdefault%2Fcomponent%2Fcheckout-service/);
  await expect(page.getByRole('heading', { level: 1, name: /Sign in to/ })).toBeVisible();
  await expect(page.getByRole('link', { name: /OpenID Connect/ })).toBeVisible();
  const api = await request.get(`${portal}/api/catalog/entities`);
  expect(api.status()).toBe(401);
  expect((await api.json()).error).toEqual({ name: 'AuthenticationError', message: 'Missing credentials' });
});

test('sign in with OIDC, see who you are, sign out', async ({ page }) => {
  await page.goto(`${portal}/catalog/default/component/checkout-service`);
  await page.getByRole('link', { name: /OpenID Connect/ }).click();
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/interaction\//);
  await signInAtIdp(page, 'ada-okafor');
  // Back where the visit started, signed in.
  await expect(page).toHaveURL(`${portal}/catalog/default/component/checkout-service`);
  const menu = page.locator('details.user-menu');
  await expect(menu.locator('summary')).toContainText('Ada Okafor');
  await menu.locator('summary').click();
  await expect(menu).toContainText('user:default/ada-okafor');
  await expect(menu).toContainText('Groups: platform');
  // The session works for the APIs too, from this browser.
  const me = await page.request.get(`${portal}/api/auth/oidc/refresh`);
  expect(me.status()).toBe(200);
  expect((await me.json()).backstageIdentity.identity.ownershipEntityRefs).toEqual([
    'user:default/ada-okafor',
    'group:default/platform',
  ]);
  const entities = await page.request.get(`${portal}/api/catalog/entities?limit=1`);
  expect(entities.status()).toBe(200);
  // The session cookie is not readable by scripts.
  const cookies = await page.context().cookies(portal);
  const session = cookies.find((c) => c.name === 'greenroom-session');
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe('Lax');

  await menu.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  expect((await page.request.get(`${portal}/api/catalog/entities?limit=1`)).status()).toBe(401);
});

test('someone the catalog does not know gets a clear refusal', async ({ page }) => {
  await page.goto(`${portal}/catalog`);
  await page.getByRole('link', { name: /OpenID Connect/ }).click();
  await signInAtIdp(page, 'mallory');
  await expect(page.getByRole('alert')).toContainText('unable to resolve user identity');
  expect((await page.request.get(`${portal}/api/catalog/entities?limit=1`)).status()).toBe(401);
});

test('a provider that rotates its signing key is followed', async ({ page }) => {
  const idp = `http://127.0.0.1:${process.env.GREENROOM_E2E_IDP_PORT ?? '7109'}`;
  const menu = page.locator('details.user-menu');
  const signIn = async () => {
    await page.goto(`${portal}/catalog`);
    await page.getByRole('link', { name: /OpenID Connect/ }).click();
    await signInAtIdp(page, 'ada-okafor');
    await expect(page).toHaveURL(`${portal}/catalog`);
    await expect(menu.locator('summary')).toContainText('Ada Okafor');
  };
  // The portal has the provider's keys from this (or an earlier) sign-in.
  await signIn();
  await menu.locator('summary').click();
  await menu.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  // The provider now signs with a key the portal has never seen: it must fetch the keys again.
  const rotated = await page.request.post(`${idp}/__test/rotate-keys`);
  expect(rotated.status()).toBe(200);
  const { kid } = await rotated.json();
  const jwks = await (await page.request.get(`${idp}/jwks`)).json();
  expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([kid]);
  await signIn();
});
