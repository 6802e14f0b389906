// bench/page-load.mjs: what the web page costs a visitor on first load: bytes transferred
// (gzip, as `scenario-lab serve` sends them) and the time until it is interactive (the page's
// own `scenario-lab:interactive` mark: engine up, examples installed, a config validated; the
// marks `scenario-lab:engine` and `scenario-lab:examples` say when the first two were done).
// Loads the page 5 times in headless Chromium (/usr/bin/chromium, playwright-core), each in a
// fresh browser context (cold caches and storage), and prints each part's bytes and the median.
// Baseline: issue 15's targets, at most 400 KB and interactive within 0.5 s.
// Run: node bench/page-load.mjs [--loads 5]

import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CHROMIUM, openPage, ready, setup } from '../tests/browser/helpers.mjs';
import { fmt, verdict } from './_lib.mjs';

const { values } = parseArgs({ options: { loads: { type: 'string', default: '5' } } });
const LOADS = Number(values.loads);
const TARGET_BYTES = 400 * 1024;
const TARGET_MS = 500;

if (!existsSync(CHROMIUM)) {
  console.log(`page-load: MISSED: no Chromium at ${CHROMIUM}; nothing measured`);
  process.exit(0);
}

const part = (path) => (path.endsWith('.wasm') ? 'wasm' : path.includes('/vendor/') ? 'vendored libraries' : path.startsWith('/pkg/') ? 'wasm-bindgen glue' : path.endsWith('.json') ? 'bundled examples' : 'page and package JS/CSS/HTML');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const env = await setup();
try {
  console.log(`page-load: ${LOADS} cold loads of /www/ in headless Chromium, each in a fresh context`);
  const totals = [];
  const ttis = [];
  let parts = {};
  for (let i = 0; i < LOADS; i++) {
    env.served.length = 0;
    const tab = await openPage(env);
    await ready(tab.page);
    const marks = await tab.page.evaluate(() => Object.fromEntries(['engine', 'examples', 'interactive'].map((m) => [m, performance.getEntriesByName(`scenario-lab:${m}`)[0]?.startTime])));
    const tti = marks.interactive;
    parts = {};
    for (const e of env.served) parts[part(new URL(e.path, 'http://x').pathname)] = (parts[part(new URL(e.path, 'http://x').pathname)] ?? 0) + e.bytes;
    const total = Object.values(parts).reduce((a, b) => a + b, 0);
    totals.push(total);
    ttis.push(tti);
    console.log(`  load ${i + 1}: ${fmt(total / 1024, 1)} KB in ${env.served.length} requests, interactive after ${Math.round(tti)} ms (engine up at ${Math.round(marks.engine)}, examples installed at ${Math.round(marks.examples)})${tab.errors.length ? ` (errors: ${tab.errors.join('; ')})` : ''}`);
    await tab.context.close();
  }
  for (const [k, v] of Object.entries(parts).sort((a, b) => b[1] - a[1])) console.log(`    ${k.padEnd(30)} ${fmt(v / 1024, 1).padStart(8)} KB`);
  const bytes = median(totals);
  const ms = median(ttis);
  console.log(`first load ${fmt(bytes / 1024, 1)} KB (target <= 400 KB) ${verdict(bytes <= TARGET_BYTES)}; interactive after ${Math.round(ms)} ms, median (target <= 500 ms) ${verdict(ms <= TARGET_MS)}`);
} finally {
  await env.close();
}
process.exitCode = 0;
