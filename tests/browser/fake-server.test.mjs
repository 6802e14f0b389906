// The web page against a real HTTP server (issue 6): tests/fake-llm/server.mjs on 127.0.0.1,
// reached from the page's worker with CORS, through the "local OpenAI-compatible server"
// connection. A batch reloaded in the middle resumes and finishes with every run exactly once
// and every cost the server billed; LLM replies carrying HTML render as inert text; the API key
// never reaches the browser's storages (unless "remember" is ticked) nor a downloaded zip. What
// prompt caches and batch prices saved shows in the finished batch's summary; `execution: batch`
// against the server's OpenRouter prefix shows its jobs on the dashboard.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { setup, openPage, ready, shot, readOpfs, opfsFiles, otherStorage, figure, typeConfig, batchEnded, waitFor } from './helpers.mjs';

const COST = 0.0001;
let env;
let tmp;

before(async () => {
  env = await setup({ fake: { latencyMs: 150, costPerCall: COST } });
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-web-fake-'));
});

after(async () => {
  await env?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The quick negotiation with every model (both actors and the world) on the fake server. */
const config = (name, runs, parallel = 2) => `experiment_name: "${name}"
base_scenario: "scenarios/quick-negotiation"
runs_per_variation: ${runs}
max_parallel: ${parallel}
variations:
  - type: actor_model
    actor: council
    values: ["test/a"]
  - type: actor_model
    actor: swiftride
    values: ["test/a"]
  - type: scenario_parameter
    parameter: world_state_model
    values: ["test/a"]
output_dir: "experiments/${name}"
`;

/** Opens the page, types a config and points the connection at the fake server. */
async function prepare(tab, text, key = null) {
  const { page } = tab;
  await ready(page);
  await typeConfig(page, text);
  await page.waitForSelector('#validity.ok');
  await page.click('a[data-tab=run]');
  await page.check('#connection input[value=local]');
  await page.fill('#base-url', env.llm.url);
  if (key) await page.fill('#local-key', key);
  await page.waitForSelector('#start:not([hidden]):not([disabled])');
}

const sumOf = (xs) => xs.reduce((a, b) => a + b, 0);

test('a batch reloaded mid-way resumes and finishes: every run exactly once, costs equal the server total', async () => {
  env.llm.reset();
  env.llm.configure({ latencyMs: 150, script: [], apiKey: null });
  const tab = await openPage(env);
  const { page } = tab;
  await prepare(tab, config('reload', 6));
  await page.click('#start');
  // Two runs done (of six), then the page goes away in the middle of the batch.
  await waitFor(page, 'two-runs-done', () => document.querySelectorAll('#run-grid .cell.completed').length >= 2);
  // Hold every new request, so that what the server billed and what the page recorded are the
  // same at the instant of the reload (a reply in flight at a kill is paid twice: the batch
  // guide says so; this test is about what resume does, not about that race).
  env.llm.configure({ latencyMs: 60_000 });
  await page.waitForTimeout(800);
  const before = await page.$$eval('#run-grid .cell.completed', (c) => c.length);
  assert.ok(before >= 2 && before < 6, `${before} runs completed before the reload`);
  await shot(page, '7-before-reload');
  await page.reload();
  env.llm.configure({ latencyMs: 20 });
  await ready(page);
  // The held requests died with the page's worker; none was answered or billed.
  for (let i = 0; i < 50 && env.llm.stats().inFlight > 0; i++) await page.waitForTimeout(100);
  assert.equal(env.llm.stats().inFlight, 0, 'no request of the old page is still open');
  const billedBefore = env.llm.stats().completions;

  // After the reload the page offers to resume, and says how far the batch got.
  await page.waitForSelector('#resume:not([hidden])');
  assert.match(await page.textContent('#run-status'), new RegExp(`This batch started before: ${before} of 6 runs completed`));
  assert.equal(await page.inputValue('#base-url'), env.llm.url, 'the connection is remembered (not the key)');
  await shot(page, '8-after-reload');
  await page.click('#resume');
  const status = await batchEnded(page);
  assert.match(status, /^Completed 6 of 6 runs · 0 failed · 0 halted · 0 not run/);
  await shot(page, '9-resumed-and-finished');

  // Every run exactly once, every call once, and the money is the server's.
  const dir = 'projects/examples/experiments/reload';
  const runs = Object.keys(await opfsFiles(page, `${dir}/runs`)).map((p) => p.split('/')[5]);
  const ids = [...new Set(runs)].sort();
  assert.deepEqual(ids, ['001', '002', '003', '004', '005', '006'].map((n) => `var-001-run-${n}`));
  let nanos = 0;
  let calls = 0;
  for (const id of ids) {
    const state = JSON.parse(await readOpfs(page, `${dir}/runs/${id}/scenario-state.json`));
    assert.equal(state.status, 'completed', id);
    const keys = (await readOpfs(page, `${dir}/runs/${id}/llm-calls.jsonl`)).trim().split('\n').map((l) => JSON.parse(l).key);
    assert.equal(new Set(keys).size, keys.length, `${id}: a call recorded twice`);
    calls += keys.length;
    nanos += JSON.parse(await readOpfs(page, `${dir}/runs/${id}/costs.json`)).total_cost_nanos;
  }
  const stats = env.llm.stats();
  assert.equal(calls, stats.completions, 'every call the server answered is recorded once, and no more');
  assert.ok(billedBefore > 0 && billedBefore < stats.completions);
  assert.equal(nanos, Math.round(stats.totalCost * 1e9), 'the runs cost what the server billed');
  const costs = JSON.parse(await readOpfs(page, `${dir}/batch-costs.json`));
  assert.equal(costs.summary.total_spent_nanos, nanos);
  assert.equal(JSON.parse(await readOpfs(page, `${dir}/batch-state.json`)).completed_runs.length, 6);
  // The dashboard's figures are the files'.
  assert.equal(Number(await figure(page, 'completed')), 6);
  assert.equal(Number(await figure(page, 'spent')), costs.summary.total_spent);
  assert.match(await page.textContent('#run-log'), /Analysis written to .*\/analysis\//, 'aggregate_metrics: the batch analysed its results');
  assert.deepEqual(tab.errors, []);
  assert.deepEqual(tab.dialogs, []);
  await tab.context.close();
});

test('Pause stops a batch gracefully, and Resume finishes it with every cost kept', async () => {
  env.llm.reset();
  env.llm.configure({ latencyMs: 150, script: [], apiKey: null });
  const tab = await openPage(env);
  const { page } = tab;
  await prepare(tab, config('pause', 6));
  await page.click('#start');
  await waitFor(page, 'one-run-done', () => document.querySelectorAll('#run-grid .cell.completed').length >= 1);
  await page.click('#pause');
  const paused = await batchEnded(page);
  assert.match(paused, /Paused: Resume continues it\.$/);
  const dir = 'projects/examples/experiments/pause';
  const summary = JSON.parse(await readOpfs(page, `${dir}/batch-summary.json`));
  assert.equal(summary.stop_reason, 'interrupted');
  assert.ok(summary.runs_completed >= 1 && summary.runs_completed < 6, `${summary.runs_completed} completed`);
  assert.equal(Number(await figure(page, 'completed')), summary.runs_completed);
  assert.equal(env.llm.stats().inFlight, 0, 'nothing is left in flight after a pause');
  await shot(page, '13-paused');
  await page.click('#resume');
  assert.match(await batchEnded(page, paused), /^Completed 6 of 6 runs · 0 failed · 0 halted/);
  const costs = JSON.parse(await readOpfs(page, `${dir}/batch-costs.json`));
  assert.equal(costs.summary.total_spent_nanos, Math.round(env.llm.stats().totalCost * 1e9), 'the batch total is what the server billed');
  assert.equal(Number(await figure(page, 'spent')), costs.summary.total_spent);
  assert.deepEqual(tab.errors, []);
  await tab.context.close();
});

test('rate-limit slowdowns show on the dashboard, and the batch still completes', async () => {
  env.llm.reset();
  env.llm.configure({ latencyMs: 0, script: [], apiKey: null, retryAfterSeconds: 1, faults: { rate429: [3, 5, 8] } });
  const tab = await openPage(env);
  const { page } = tab;
  await prepare(tab, config('limited', 2, 1));
  await page.click('#start');
  assert.match(await batchEnded(page), /^Completed 2 of 2 runs · 0 failed · 0 halted/);
  assert.equal(env.llm.stats().faults.rate429, 3);
  assert.equal(await figure(page, 'rate-limits'), '3');
  assert.match(await page.textContent('#dashboard [data-fig="rate-limits"] .value'), /^3× 429 \(limit now \d+\)$/);
  await shot(page, '14-rate-limited');
  assert.deepEqual(tab.errors, []);
  await tab.context.close();
  env.llm.configure({ faults: {} });
});

test('with a key, prices come from the server\'s model list; without one, a budget with an unpriced model refuses to start', async () => {
  const key = 'sk-test-prices';
  env.llm.reset();
  env.llm.configure({ latencyMs: 0, script: [], apiKey: null, models: [{ id: 'test/priced', pricing: { prompt: '0.000001', completion: '0.000002' } }] });
  const priced = `experiment_name: "priced"
base_scenario: "scenarios/quick-negotiation"
runs_per_variation: 1
budget_limit: 1
variations:
  - type: actor_model
    actor: council
    values: ["test/priced"]
output_dir: "experiments/priced"
`;
  const tab = await openPage(env);
  const { page } = tab;
  await prepare(tab, priced);
  await page.click('#start');
  await waitFor(page, 'refused', () => /The batch did not run/.test(document.querySelector('#alert:not([hidden])')?.textContent ?? ''));
  assert.match(await page.textContent('#alert'), /no price is known for test\/priced/);
  assert.equal(env.llm.stats().requests, 0, 'nothing was sent');
  assert.equal(await readOpfs(page, 'projects/examples/experiments/priced/batch-state.json'), null, 'nothing was written');

  env.llm.configure({ apiKey: key });
  await page.fill('#local-key', key);
  await page.click('#start');
  assert.match(await batchEnded(page), /^Completed 1 of 1 runs · 0 failed/);
  assert.equal(env.llm.stats().byStatus[401], undefined);
  assert.deepEqual(tab.errors, []);
  await tab.context.close();
  env.llm.configure({ apiKey: null, models: ['openai/gpt-4o-mini', 'anthropic/claude-3-haiku'] });
});

const PAYLOAD = '<img src=x onerror=alert(1)> and <script>alert(2)</script>';

test('an LLM reply with HTML in it renders as inert text in the run browser', async () => {
  env.llm.reset();
  env.llm.configure({
    latencyMs: 0,
    apiKey: null,
    script: [{
      sticky: true,
      reply: `**LONG-TERM GOALS:**\n- ${PAYLOAD}\n\n**SHORT-TERM PRIORITIES:**\n- <b onmouseover=alert(3)>bold</b>\n\n` +
        `**REASONING:**\n<iframe src="javascript:alert(4)"></iframe> [click](javascript:alert(5)) ![x](http://127.0.0.1:9/track.png)\n\n` +
        `**ACTION:**\n${PAYLOAD}\n\n<script>alert(6)</script>\n`,
    }],
  });
  const tab = await openPage(env);
  const { page } = tab;
  await prepare(tab, config('xss', 1, 1));
  await page.click('#start');
  await batchEnded(page);
  await page.click('a[data-tab=results]');
  await page.click('#runs-table tbody tr[data-run="var-001-run-001"]');
  await page.click('#file-tabs button[data-file="council-001.md"]');
  await page.waitForSelector('#file-view[data-file="council-001.md"]');
  await page.hover('#file-view');
  const view = await page.$eval('#file-view', (el) => ({
    text: el.textContent,
    elements: [...el.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()),
    handlers: [...el.querySelectorAll('*')].flatMap((e) => [...e.attributes].map((a) => a.name)).filter((n) => n.startsWith('on')),
    links: [...el.querySelectorAll('a')].map((a) => a.getAttribute('href')),
  }));
  assert.ok(view.text.includes('<img src=x onerror=alert(1)>'), 'the tag is shown as text');
  assert.ok(view.text.includes('<script>alert(2)</script>'), 'the script is shown as text');
  for (const tag of ['img', 'script', 'iframe', 'b']) assert.ok(!view.elements.includes(tag), `no <${tag}> element`);
  assert.deepEqual(view.handlers, []);
  assert.deepEqual(view.links, [], 'a javascript: link is not a link');
  await page.waitForTimeout(300);
  assert.deepEqual(tab.dialogs, [], 'no script ran');
  await shot(page, '10-untrusted-text');
  // Nothing asked the server of the image either.
  assert.deepEqual(tab.errors, []);
  await tab.context.close();
  env.llm.configure({ script: [] });
});

const KEY = 'sk-test-0123456789-DO-NOT-STORE';
const OR_KEY = 'sk-or-v1-test-REMEMBER-ONLY-IF-TICKED';

test('the API key is in no storage and no downloaded zip, unless "remember" is ticked', async () => {
  env.llm.reset();
  env.llm.configure({ latencyMs: 0, script: [], apiKey: KEY });
  const tab = await openPage(env);
  const { page } = tab;
  await prepare(tab, config('keyed', 2), KEY);
  await page.click('#start');
  const status = await batchEnded(page);
  assert.match(status, /^Completed 2 of 2 runs/);
  const stats = env.llm.stats();
  assert.ok(stats.completions > 0);
  assert.equal(stats.byStatus[401], undefined, 'every request carried the key');

  const opfs = await opfsFiles(page);
  assert.ok(Object.keys(opfs).some((p) => p.endsWith('llm-calls.jsonl')));
  for (const [path, text] of Object.entries(opfs)) assert.ok(!text.includes(KEY), `the key is in ${path}`);
  assert.ok(!(await otherStorage(page)).includes(KEY), 'the key is in IndexedDB or localStorage');

  await page.click('a[data-tab=results]');
  await page.waitForSelector('#runs-table tbody tr');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-zip')]);
  const zip = join(tmp, 'keyed.zip');
  await download.saveAs(zip);
  const bytes = readFileSync(zip);
  assert.ok(!bytes.includes(KEY), 'the key is in the zip bytes');
  const entries = unzipSync(bytes);
  assert.ok(Object.keys(entries).length > 10);
  for (const [name, data] of Object.entries(entries)) assert.ok(!strFromU8(data).includes(KEY), `the key is in ${name}`);

  // An OpenRouter key: memory only, until "remember on this device" is ticked.
  await page.click('a[data-tab=run]');
  await page.check('#connection input[value=openrouter]');
  await page.fill('#api-key', OR_KEY);
  assert.ok(!(await otherStorage(page)).includes(OR_KEY), 'an unremembered key is stored');
  await page.check('#remember-key');
  assert.equal(await page.evaluate(() => localStorage.getItem('scenario-lab:openrouter-key')), OR_KEY);
  await page.reload();
  await ready(page);
  assert.equal(await page.inputValue('#api-key'), OR_KEY, 'a remembered key is there after a reload');
  await page.uncheck('#remember-key');
  assert.ok(!(await otherStorage(page)).includes(OR_KEY), 'unticking forgets the key');
  for (const text of Object.values(await opfsFiles(page))) assert.ok(!text.includes(OR_KEY));
  await shot(page, '11-connection');
  assert.deepEqual(tab.errors, []);
  await tab.context.close();
});

/** Money as the page shows it (www/dom.js's usd). */
const usd = (x) => (x > 0 && x < 0.01 ? `$${x.toFixed(4)}` : `$${x.toFixed(2)}`);

test('what prompt caches saved shows in the finished batch\'s summary and in the results view', async () => {
  env.llm.reset();
  // Caching from 64 tokens on, so that the quick negotiation's prompts share cached prefixes.
  env.llm.configure({ latencyMs: 0, script: [], apiKey: null, promptCache: { minTokens: 64, blockTokens: 16 } });
  const tab = await openPage(env);
  const { page } = tab;
  await prepare(tab, config('cached', 2, 1));
  await page.click('#start');
  const status = await batchEnded(page);
  assert.match(status, /^Completed 2 of 2 runs · 0 failed · 0 halted · 0 not run/);
  const dir = 'projects/examples/experiments/cached';
  const sv = JSON.parse(await readOpfs(page, `${dir}/batch-summary.json`)).cost_summary.savings;
  assert.ok(sv?.cached_tokens > 0, `the batch recorded cached tokens: ${JSON.stringify(sv)}`);
  assert.equal(sv.cached_tokens, env.llm.stats().cache.cachedTokens, 'the cached tokens are the ones the server reported');
  const line = `Saved ${usd(sv.batch_saved + sv.cache_saved)} against realtime prices: ${usd(sv.batch_saved)} by batch jobs (${sv.batch_calls} calls), ` +
    `${usd(sv.cache_saved)} by prompt caches (${Math.round((100 * sv.cached_tokens) / sv.prompt_tokens)}% of prompt tokens cached).`;
  assert.ok(status.endsWith(` ${line}`), `${status} ends with the saving line`);
  assert.match(await page.textContent('#dashboard [data-fig="saved"]'), /cache hit rate \d+%/);
  await page.click('a[data-tab=results]');
  await page.waitForSelector('#results-savings');
  assert.equal(await page.textContent('#results-savings'), line);
  await shot(page, '16-cache-savings');
  assert.deepEqual(tab.errors, []);
  await tab.context.close();
  env.llm.configure({ promptCache: { minTokens: 1024, blockTokens: 128 } });
});

test('execution: batch against OpenRouter\'s batch API: the dashboard shows the jobs, the summary what batch prices saved', async () => {
  const key = 'sk-or-batch';
  env.llm.reset();
  env.llm.configure({ latencyMs: 0, script: [], apiKey: key, batchDelayMs: 300, pricePerMillion: { prompt: 1, completion: 2 },
    models: [{ id: 'test/a', pricing: { prompt: '0.000001', completion: '0.000002' } }] });
  const tab = await openPage(env);
  const { page } = tab;
  await ready(page);
  await typeConfig(page, config('lockstep', 2).replace('variations:', 'execution: batch\nvariations:'));
  await page.waitForSelector('#validity.ok');
  await page.click('a[data-tab=run]');
  await page.check('#connection input[value=local]');
  // A base URL naming OpenRouter: the core speaks OpenRouter's batch protocol to it.
  await page.fill('#base-url', env.llm.openrouterUrl);
  await page.fill('#local-key', key);
  await page.waitForSelector('#start:not([hidden]):not([disabled])');
  await page.click('#start');
  await waitFor(page, 'a-job-shown', () => document.querySelector('#dashboard [data-fig="job"]'));
  assert.match(await page.textContent('#dashboard [data-fig="job"] .label'), /^Batch job · turn \d+ \w+/);
  const status = await batchEnded(page);
  assert.match(status, /^Completed 2 of 2 runs · 0 failed · 0 halted · 0 not run/);

  const stats = env.llm.stats();
  const jobs = Object.values(stats.batches.jobsById);
  assert.ok(jobs.length > 1 && jobs.every((j) => j.api === 'openrouter' && j.status === 'completed'), JSON.stringify(jobs));
  assert.equal(stats.requests, 0, 'every call went in a batch job');
  // The last job, every job counted, and the session's wait.
  const job = await page.textContent('#dashboard [data-fig="job"]');
  assert.match(job, new RegExp(`completed (\\d+) / \\1waited \\d+s\\d+s on providers \\(${jobs.length} jobs\\)$`));
  const sv = JSON.parse(await readOpfs(page, 'projects/examples/experiments/lockstep/batch-summary.json')).cost_summary.savings;
  assert.equal(sv.batch_calls, jobs.reduce((a, j) => a + j.completed, 0), 'every answer came from a job');
  assert.ok(sv.batch_saved > 0, JSON.stringify(sv));
  const line = `Saved ${usd(sv.batch_saved + sv.cache_saved)} against realtime prices: ${usd(sv.batch_saved)} by batch jobs (${sv.batch_calls} calls), ` +
    `${usd(sv.cache_saved)} by prompt caches (${Math.round((100 * sv.cached_tokens) / Math.max(1, sv.prompt_tokens))}% of prompt tokens cached).`;
  assert.ok(status.endsWith(` ${line}`), `${status} ends with the saving line`);
  assert.match(await page.textContent('#dashboard [data-fig="saved"] .value'), /^\$\d/);
  await shot(page, '17-batch-execution');
  assert.deepEqual(tab.errors, []);
  await tab.context.close();
  env.llm.configure({ apiKey: null, batchDelayMs: 100, pricePerMillion: null, models: ['openai/gpt-4o-mini', 'anthropic/claude-3-haiku'] });
});
