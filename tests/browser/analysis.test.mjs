// The analysis view of the web page (www/analysis-view.js), which shows what the core's
// `analyzeBatch` (issue 5, written on another branch) makes of a result tree. The page detects
// the API: while the package does not export it, the view's tab must stay hidden and nothing may
// pretend to analyse; once it does, an uploaded result zip is analysed in the worker, its
// report.html is shown in a sandboxed iframe (no scripts, no same-origin access), and every
// analysis file is offered for download. Which branch runs depends on the build under test.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lab from '../../node/index.js';
import { setup, openPage, ready, shot, batchEnded } from './helpers.mjs';

const HAS_ANALYSIS = typeof lab.analyzeBatch === 'function';
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

test(HAS_ANALYSIS ? 'an uploaded result zip is analysed, and its report is shown sandboxed' : 'without analyzeBatch in the package, the analysis view stays hidden', async () => {
  const tab = await openPage(env);
  const { page } = tab;
  await ready(page);
  // A result tree to analyse: the quick-start batch, run in the page and downloaded.
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

  if (!HAS_ANALYSIS) {
    assert.equal(await page.isHidden('#analysis-tab'), true, 'the analysis tab is hidden');
    await page.goto(`${env.url}/www/#analysis`);
    await ready(page);
    assert.equal(await page.isHidden('#view-analysis'), true, '#analysis falls back to another view');
    assert.equal(await page.$('iframe.report'), null);
  } else {
    assert.equal(await page.isVisible('#analysis-tab'), true);
    await page.click('#analysis-tab');
    await page.waitForSelector('iframe.report', { timeout: 120_000 });
    const frame = await page.$eval('iframe.report', (f) => ({ sandbox: f.getAttribute('sandbox'), srcdoc: f.srcdoc }));
    assert.equal(frame.sandbox, '', 'the report runs with every sandbox restriction');
    assert.match(frame.srcdoc, /<svg/i, 'the report has its charts');
    assert.doesNotMatch(frame.srcdoc, /<script/i, 'the report has no scripts');
    const files = await page.$$eval('#view-analysis button', (b) => b.map((x) => x.textContent.replace(/^⬇ /, '')));
    for (const f of ['analysis-report.md', 'report.html', 'metrics-analysis.json', 'variation-statistics.json', 'patterns.json', 'runs.csv']) {
      assert.ok(files.includes(f), `${f} is offered`);
    }
    await shot(page, '15-analysis');
  }
  assert.deepEqual(tab.errors, []);
  await tab.context.close();
});
