import { defineConfig } from '@playwright/test';

/**
 * Playwright drives Debian's Chromium (/usr/bin/chromium); browser downloads are not possible
 * on our machines, so `npx playwright install` is never needed.
 *
 * The server under test is started by the caller: `scripts/dev.sh e2e|test` starts the built
 * release binary (app-config.yaml + app-config.e2e.yaml, port 7107), `cargo leptos end-to-end`
 * starts its own build on app-config.yaml (port 7007, the default here). GREENROOM_E2E_URL
 * overrides the address.
 */
const baseURL = process.env.GREENROOM_E2E_URL ?? 'http://127.0.0.1:7007';

export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: process.env.CI ? [['list'], ['json', { outputFile: 'test-results/results.json' }]] : 'list',
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
});
