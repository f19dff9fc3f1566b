import type { FullConfig } from '@playwright/test';

/** Waits (up to 60 s) until the server under test answers its liveness endpoint. */
export default async function globalSetup(config: FullConfig): Promise<void> {
  const baseURL = config.projects[0]?.use.baseURL ?? 'http://127.0.0.1:7007';
  const url = new URL('/.backstage/health/v1/liveness', baseURL).toString();
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
  throw new Error(`server at ${baseURL} did not become live within 60 s: ${String(lastError)}`);
}
