// The analysis view of the web page (www/analysis-view.js), which shows what the core's
// `analyzeBatch` makes of a result tree: a batch run in the page, downloaded as a zip and
// uploaded again; and a folder written by the original Python Scenario Lab (our fixture in its
// V1 format), uploaded as a zip. Each is analysed in the worker; its report.html is shown in a
// sandboxed iframe (no scripts, no same-origin access) with its charts, and every analysis file
// is offered for download.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { zipSync } from 'fflate';
import { ROOT, setup, openPage, ready, shot, batchEnded } from './helpers.mjs';

const FILES = ['analysis-report.md', 'report.html', 'metrics-analysis.json', 'variation-statistics.json', 'patterns.json', 'runs.csv'];
let env;
let tmp;

before(async () => {
  env = await setup();
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-web-analysis-'));
});

after(async () => {
  await env?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The analysis view after an upload: the sandboxed report, and the files offered. */
async function shownAnalysis(page) {
  await page.click('#analysis-tab');
  await page.waitForSelector('iframe.report', { timeout: 120_000 });
  const frame = await page.$eval('iframe.report', (f) => ({ sandbox: f.getAttribute('sandbox'), srcdoc: f.srcdoc }));
  const files = await page.$$eval('#view-analysis button', (b) => b.map((x) => x.textContent.replace(/^⬇ /, '')));
  return { ...frame, files };
}

test('a result tree run in the page, downloaded and uploaded again, is analysed and its report shown sandboxed', async () => {
  const tab = await openPage(env);
  const { page } = tab;
  await ready(page);
  await page.click('a[data-tab=run]');
  await page.click('#start');
  await batchEnded(page);
  await page.click('a[data-tab=results]');
  await page.waitForSelector('#runs-table tbody tr');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-zip')]);
  const zip = join(tmp, 'quick-start.zip');
  await download.saveAs(zip);
  await page.setInputFiles('#upload-zip-input', zip);
  await page.waitForFunction(() => document.querySelector('#results-source')?.selectedOptions[0]?.textContent.startsWith('Uploaded:'));

  const shown = await shownAnalysis(page);
  assert.equal(shown.sandbox, '', 'the report runs with every sandbox restriction');
  assert.match(shown.srcdoc, /<svg/i, 'the report has its charts');
  assert.doesNotMatch(shown.srcdoc, /<script/i, 'the report has no scripts');
  assert.match(shown.srcdoc, /quick-start/, 'the report names the experiment');
  for (const f of FILES) assert.ok(shown.files.includes(f), `${f} is offered`);
  // The charts are drawn in the frame (a sandboxed frame still renders SVG).
  const charts = await page.frameLocator('iframe.report').locator('svg').count();
  assert.ok(charts >= 2, `charts in the frame: ${charts}`);
  await shot(page, '15-analysis');
  assert.deepEqual(tab.errors, []);
  await tab.context.close();
});

test('a folder written by the original Python tool, uploaded as a zip, is analysed', async () => {
  const dir = join(ROOT, 'tests', 'fixtures', 'original-output', 'v1-batch');
  const entries = {};
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else entries[`harbour-v1/${relative(dir, p)}`] = readFileSync(p);
    }
  };
  walk(dir);
  const zip = join(tmp, 'harbour-v1.zip');
  writeFileSync(zip, zipSync(entries));

  const tab = await openPage(env);
  const { page } = tab;
  await ready(page);
  await page.click('a[data-tab=results]');
  await page.setInputFiles('#upload-zip-input', zip);
  await page.waitForFunction(() => document.querySelector('#results-source')?.selectedOptions[0]?.textContent.startsWith('Uploaded:'));

  const shown = await shownAnalysis(page);
  assert.equal(shown.sandbox, '');
  assert.match(shown.srcdoc, /harbour-v1/);
  assert.match(shown.srcdoc, /original Scenario Lab output, V1 run files/);
  assert.match(shown.srcdoc, /<svg/i);
  for (const f of FILES) assert.ok(shown.files.includes(f), `${f} is offered`);
  await shot(page, '16-analysis-original');
  assert.deepEqual(tab.errors, []);
  await tab.context.close();
});
