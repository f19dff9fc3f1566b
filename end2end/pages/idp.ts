import { type Page } from '@playwright/test';

/**
 * Signs in at the test OpenID provider's development login page (oidc/idp.mjs) as `login`
 * (any password is accepted), and accepts its consent page the first time for an account.
 */
export async function signInAtIdp(page: Page, login: string): Promise<void> {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any-password');
  await page.locator('button[type="submit"]').click();
  const consent = page.getByRole('button', { name: /continue/i });
  if (await consent.isVisible({ timeout: 5_000 }).catch(() => false)) {
    await consent.click();
  }
}
