import type { FullConfig } from '@playwright/test';

async function waitFor(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      lastError = new Error(`HTTP ${res.status}`);
    } catch (e) {
      lastError = e;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer within 60 s: ${String(lastError)}`);
}

/**
 * Waits (up to 60 s each) until the servers under test answer: the portal's liveness endpoint,
 * and, when the sign-in tests run (GREENROOM_E2E_OIDC_URL), the signed portal and its OpenID
 * provider.
 */
export default async function globalSetup(config: FullConfig): Promise<void> {
  const baseURL = config.projects[0]?.use.baseURL ?? 'http://127.0.0.1:7007';
  const urls = [new URL('/.backstage/health/v1/liveness', baseURL).toString()];
  const oidc = process.env.GREENROOM_E2E_OIDC_URL;
  if (oidc) {
    urls.push(new URL('/.backstage/health/v1/liveness', oidc).toString());
    urls.push(`http://127.0.0.1:${process.env.GREENROOM_E2E_IDP_PORT ?? 7109}/.well-known/openid-configuration`);
  }
  await Promise.all(urls.map(waitFor));
}
