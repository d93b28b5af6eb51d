// console_paint.mjs: the browser half of bench/console_paint.sh. Logs in through the console in
// headless Chromium (the launch flags of tests/browser/console.test.mjs) and times every target
// section from the navigation to its painted content, measured inside the page:
//  - "click": in-app navigation from another section (the nav link's click, or a hash change
//    for a filtered view); t0 = performance.now() just before the click;
//  - "load": a full page load of URL/#/<section> (boot, GET /auth/me, module imports included);
//    t0 = the navigation start (performance.now() counts from it);
//  - "cold": the same full load in a brand-new browser context that only carries the session
//    cookie: empty HTTP cache, new TLS connections, every file sent in full.
// "Painted" = the section's element holds its h1, no "Loading…" placeholder, and its table (or
// its message); then one requestAnimationFrame plus a posted task, which lands after the frame
// with that content has been produced. Median of RUNS of each. Env from console_paint.sh: URL,
// ADMIN_PASS, RUNS, TARGETS_FILE, API_FILE, SRC, NODE_EXTRA_CA_CERTS.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const { URL: URL0, ADMIN_PASS, TARGETS_FILE, API_FILE, SRC, SPKI } = process.env;
const RUNS = Number(process.env.RUNS || 5);
const TARGET_MS = 200;
const require = createRequire(SRC + '/tests/browser/package.json');
const { chromium } = require('playwright-core');

const targets = readFileSync(TARGETS_FILE, 'utf8').trim().split('\n').map((l) => {
  const [name, hash, path] = l.split('|');
  return { name, hash, path };
});
const api = Object.fromEntries(readFileSync(API_FILE, 'utf8').trim().split('\n').map((l) => {
  const [name, ms] = l.split('|');
  return [name, ms];
}));

// Runs in the page. Resolves with the time at which the section of `hash` is painted.
// Shared by both modes: installed at document start (load) and called after the click (click).
const PAINT_WATCH = `
window.__watchPaint = function (hash) {
  const id = 'sec-' + hash.split('?')[0];
  const ready = () => {
    const s = document.getElementById(id);
    return s && s.querySelector('h1') && !s.querySelector('.loading') &&
      (s.querySelector('table.grid') || s.querySelector('.msg'));
  };
  return new Promise((resolve) => {
    const done = () => requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => resolve(performance.now());
      ch.port2.postMessage(0);
    });
    if (ready()) return done();
    const mo = new MutationObserver(() => { if (ready()) { mo.disconnect(); done(); } });
    mo.observe(document, { childList: true, subtree: true, attributes: true });
  });
};
if (location.protocol === 'https:' && !window.__paintP) {
  const h = location.hash.replace(/^#\\/?/, '') || 'cas';
  window.__paintP = window.__watchPaint(h).then((t) => { window.__paintAt = t; return t; });
}`;

const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-quic', '--no-first-run', '--ignore-certificate-errors-spki-list=' + SPKI],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
await context.addInitScript({ content: PAINT_WATCH });
const page = await context.newPage();
const problems = [];
page.on('pageerror', (e) => problems.push('page error: ' + e.message));

await page.goto(URL0 + '/');
await page.getByLabel('Username').fill('admin');
await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASS);
await page.getByRole('button', { name: 'Log in' }).click();
await page.getByRole('navigation', { name: 'Sections' }).waitFor();
await page.evaluate(() => window.__paintP);

// In-app navigation to `hash` from whatever section is shown; returns ms to paint.
async function clickTo(hash) {
  return page.evaluate(async (hsh) => {
    const link = document.querySelector(`#nav a[href="#/${hsh}"]`);
    const p = window.__watchPaint(hsh);
    const t0 = performance.now();
    if (link) link.click(); else location.hash = '#/' + hsh;
    return (await p) - t0;
  }, hash);
}

async function loadTo(hash) {
  await page.goto('about:blank');
  await page.goto(URL0 + '/#/' + hash);
  return page.evaluate(() => window.__paintP);
}

// A fresh context per run: nothing cached, no open connection, only the login cookie.
const session = await context.storageState();
async function coldTo(hash) {
  const c = await browser.newContext({ viewport: { width: 1280, height: 800 }, storageState: session });
  await c.addInitScript({ content: PAINT_WATCH });
  const p = await c.newPage();
  p.on('pageerror', (e) => problems.push('page error (cold): ' + e.message));
  await p.goto(URL0 + '/#/' + hash);
  const ms = await p.evaluate(() => window.__paintP);
  await c.close();
  return ms;
}

const rows = [];
for (const t of targets) {
  // A neutral section to come from: never the target itself (no hashchange then).
  const from = t.hash.startsWith('audit') ? 'orders' : 'audit';
  const click = [], load = [], cold = [];
  for (let i = 0; i < RUNS; i++) {
    await clickTo(from);
    click.push(await clickTo(t.hash));
  }
  for (let i = 0; i < RUNS; i++) load.push(await loadTo(t.hash));
  for (let i = 0; i < RUNS; i++) cold.push(await coldTo(t.hash));
  const rowsShown = await page.evaluate((hsh) => document.querySelectorAll(`#sec-${hsh.split('?')[0]} table.grid tbody tr:not(:has(td.empty))`).length, t.hash);
  const errShown = await page.evaluate((hsh) => {
    const m = document.querySelector(`#sec-${hsh.split('?')[0]} .msg-error`);
    return m ? m.textContent : '';
  }, t.hash);
  rows.push({ ...t, click: median(click), load: median(load), cold: median(cold), rowsShown, errShown, api: api[t.name] });
}
await browser.close();

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
console.log(`\nconsole first paint, median of ${RUNS} (ms; click = in-app navigation, load = full page load incl. boot,\ncold = full load in a new browser context: empty cache, new TLS connections)`);
console.log(`${pad('section', 32)}${lpad('click', 8)}${lpad('load', 8)}${lpad('cold', 8)}${lpad('API', 8)}${lpad('rows', 6)}  < ${TARGET_MS} ms  REST call`);
let worst = 0;
for (const r of rows) {
  const ok = r.click < TARGET_MS && r.load < TARGET_MS && r.cold < TARGET_MS;
  worst = Math.max(worst, r.click, r.load, r.cold);
  console.log(`${pad(r.name, 32)}${lpad(r.click.toFixed(1), 8)}${lpad(r.load.toFixed(1), 8)}${lpad(r.cold.toFixed(1), 8)}${lpad(r.api, 8)}${lpad(r.rowsShown, 6)}  ${pad(ok ? 'yes' : 'NO', 9)} GET /api/v1${r.path}`);
  if (r.errShown) console.log(`    shown error: ${r.errShown}`);
}
console.log(`\nworst: ${worst.toFixed(1)} ms (target ${TARGET_MS} ms)`);
if (problems.length) console.log('page errors:', problems);
