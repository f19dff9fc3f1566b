// First-page benchmark: what a browser transfers for a page and how long until it is hydrated,
// in Debian's Chromium driven by Playwright, with an empty cache each time (a first visit).
//
//   scripts/dev.sh run &                       # the portal on the bundled catalog + demo clusters
//   node end2end/bench/first-page.mjs [--url http://127.0.0.1:7007] [--runs 7] [--slow]
//
// For each page: bytes on the wire (Chromium's encodedDataLength: compressed bodies plus
// headers), split by resource type, and the medians of: first contentful paint, DOMContentLoaded,
// and hydration (the moment `<html data-hydrated="true">` is set by the wasm bundle, observed
// by a MutationObserver installed before any page script runs), and the moment the page's
// Kubernetes data is on screen: in the document (the catalog's health column, the tab's pod rows;
// seen by the same kind of observer) and painted (not before the first contentful paint). `--slow` adds Chromium's
// emulation of a slow phone: 4× CPU slowdown, 1.6 Mbps down, 750 kbps up, 150 ms latency.
// Numbers go to stdout as a Markdown table (README, Benchmarks).
import { chromium } from '@playwright/test';

const args = process.argv.slice(2);
const option = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const base = option('--url', process.env.GREENROOM_URL ?? 'http://127.0.0.1:7007');
const runs = Number(option('--runs', 7));
const slow = args.includes('--slow');
// Each page, its label, and the element that shows its Kubernetes data.
const pages = [
  ['/catalog', 'catalog list', '.chip[class*="health-"]'],
  ['/catalog/default/component/checkout-service/kubernetes', 'Kubernetes tab', 'table.pods tbody tr'],
];

const median = xs => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

async function once(browser, path, dataSelector) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(selector => {
    new MutationObserver((_, observer) => {
      if (document.querySelector(selector)) {
        window.__dataAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
    // Observes the document itself: the script runs before <html> is parsed.
    new MutationObserver((_, observer) => {
      if (document.documentElement?.dataset.hydrated === 'true') {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
  }, dataSelector);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (slow) {
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 150,
      downloadThroughput: (1.6 * 1024 * 1024) / 8,
      uploadThroughput: (750 * 1024) / 8,
    });
  }
  const types = new Map();
  const bytes = {};
  cdp.on('Network.responseReceived', e =>
    types.set(e.requestId, e.response.url.split('?')[0].endsWith('.wasm') ? 'wasm' : e.type),
  );
  cdp.on('Network.loadingFinished', e => {
    const type = types.get(e.requestId) ?? 'Other';
    bytes[type] = (bytes[type] ?? 0) + e.encodedDataLength;
  });
  await page.goto(base + path, { waitUntil: 'load' });
  await page.waitForFunction(() => window.__hydratedAt !== undefined && window.__dataAt !== undefined, null, { timeout: 60_000 });
  // Let requests started by hydration (server functions, the live stream's first frame) finish.
  await page.waitForLoadState('networkidle').catch(() => {});
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    return {
      fcp: fcp ? fcp.startTime : NaN,
      dcl: nav ? nav.domContentLoadedEventEnd : NaN,
      hydrated: window.__hydratedAt,
      data: Math.max(window.__dataAt, fcp ? fcp.startTime : 0),
    };
  });
  await context.close();
  return { bytes, ...timing };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic'],
});
const kb = n => (n / 1024).toFixed(1);
console.log(`first visit, empty cache, ${runs} runs each, ${slow ? 'slow phone emulation' : 'loopback'}: ${base}`);
console.log('| page | transferred (KiB) | of which wasm / JS / document / other | first paint (ms) | Kubernetes data on screen (ms) | DOMContentLoaded (ms) | hydrated, interactive (ms) |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const [path, label, dataSelector] of pages) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await once(browser, path, dataSelector));
  const last = results[results.length - 1].bytes;
  const total = Object.values(last).reduce((a, b) => a + b, 0);
  const wasm = last.wasm ?? 0;
  const js = last.Script ?? 0;
  const doc = last.Document ?? 0;
  const other = total - wasm - js - doc;
  const m = key => median(results.map(r => r[key])).toFixed(0);
  console.log(
    `| ${label} (\`${path}\`) | ${kb(total)} | ${kb(wasm)} / ${kb(js)} / ${kb(doc)} / ${kb(other)} | ${m('fcp')} | ${m('data')} | ${m('dcl')} | ${m('hydrated')} |`,
  );
}
await browser.close();
