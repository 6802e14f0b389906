// The web page as a new user meets it (issue 6), in headless Chromium over the real wasm build:
// open the quick-start example, see its scenario, plan it, run it on the built-in model to the
// end, check that the dashboard's figures are the ones the batch wrote to the browser's
// storage (read back from OPFS), browse a run, download the output tree as a zip in the CLI's
// layout, upload that zip back for browsing; a bad YAML edit shows its error at its line and
// nothing runs; the dashboard, fed the events of `execution: batch`, shows the provider job, the
// time waiting on providers and what was saved. Also measures the page's load size and time to
// interactive (printed, not asserted: tests never assert on wall time). Needs pkg/ and
// www/vendor built (`npm run build`).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { unzipSync, zipSync, strFromU8, strToU8 } from 'fflate';
import { setup, openPage, ready, shot, readOpfs, opfsFiles, figure, typeConfig, batchEnded, waitFor, QUICK, ROOT } from './helpers.mjs';

let env;
let tab; // one context for the quick-start story: its storage carries from test to test
let tmp;

before(async () => {
  env = await setup();
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-web-'));
});

after(async () => {
  await env?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

test('the page loads, and its size and time to interactive are measured', async () => {
  env.served.length = 0;
  tab = await openPage(env);
  await ready(tab.page);
  const tti = await tab.page.evaluate(() => performance.getEntriesByName('scenario-lab:interactive')[0]?.startTime);
  assert.ok(tti > 0, 'the page marks when it is interactive');
  const parts = {};
  for (const e of env.served) {
    const path = new URL(e.path, 'http://x').pathname;
    const part = path.endsWith('.wasm') ? 'wasm' : path.includes('/vendor/') ? 'vendored libraries' : path.startsWith('/pkg/') ? 'wasm-bindgen glue' : path.endsWith('.json') ? 'bundled examples' : 'page and package JS/CSS/HTML';
    parts[part] = (parts[part] ?? 0) + e.bytes;
    assert.equal(e.status, 200, `${path} answered ${e.status}`);
  }
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  const lines = Object.entries(parts).sort((a, b) => b[1] - a[1]).map(([k, v]) => `    ${k.padEnd(30)} ${kb(v).padStart(10)}`);
  process.stdout.write(`\n  page load (transferred, gzip): ${kb(total)} in ${env.served.length} requests; interactive after ${Math.round(tti)} ms\n${lines.join('\n')}\n`);
  assert.ok(!env.served.some((e) => e.path.includes('/vendor/')), 'the vendored libraries are not part of the first load');
  assert.deepEqual(tab.errors, []);
});

test('quick-start: the scenario is shown, planned, run on the built-in model, and the dashboard matches the files', async () => {
  const { page } = tab;
  assert.equal(await page.inputValue('#config-select'), JSON.stringify(['examples', QUICK]));
  await page.waitForSelector('#actors-table');
  const actors = await page.$$eval('#actors-table tbody tr strong', (els) => els.map((e) => e.textContent));
  assert.deepEqual(actors, ['council', 'swiftride']);
  assert.deepEqual(await page.$$eval('#metrics-table code', (els) => els.map((e) => e.textContent)), ['data_sharing_level', 'privacy_mentions']);
  assert.match(await page.textContent('#validity'), /valid/);
  await shot(page, '1-experiment');

  await page.click('#to-plan');
  await page.waitForSelector('#plan-figures [data-fig=runs]');
  assert.equal(await page.textContent('#plan-figures [data-fig=runs] .value'), '3');
  assert.match(await page.textContent('#plan-text'), /1 variation x 3 runs = 3 runs/);
  await shot(page, '2-plan');

  await page.click('#plan-to-run');
  await page.waitForSelector('#start:not([hidden]):not([disabled])');
  assert.match(await page.textContent('#run-status'), /Ready: 3 run\(s\)/);
  await page.click('#start');
  const status = await batchEnded(page);
  assert.match(status, /^Completed 3 of 3 runs · 0 failed · 0 halted · 0 not run · spent \$0\.00\./);
  await shot(page, '3-run-dashboard');

  // The dashboard against what the batch wrote to OPFS.
  const dir = 'projects/examples/experiments/quick-start';
  const summary = JSON.parse(await readOpfs(page, `${dir}/batch-summary.json`));
  const costs = JSON.parse(await readOpfs(page, `${dir}/batch-costs.json`));
  assert.equal(Number(await figure(page, 'completed')), summary.runs_completed);
  assert.equal(summary.runs_completed, 3);
  assert.equal(Number(await figure(page, 'failed')), summary.runs_failed);
  assert.equal(Number(await figure(page, 'halted')), summary.runs_halted);
  assert.equal(Number(await figure(page, 'spent')), costs.summary.total_spent);
  const cells = await page.$$eval('#run-grid .cell', (els) => els.map((e) => [e.dataset.run, e.dataset.status]));
  const states = {};
  for (const id of ['var-001-run-001', 'var-001-run-002', 'var-001-run-003']) {
    states[id] = JSON.parse(await readOpfs(page, `${dir}/runs/${id}/scenario-state.json`)).status;
  }
  assert.deepEqual(Object.fromEntries(cells), states);
  assert.deepEqual(Object.values(states), ['completed', 'completed', 'completed']);
  assert.deepEqual(tab.errors, []);
});

test('the results view renders a run from the files, with its costs by role and actor', async () => {
  const { page } = tab;
  await page.click('a[data-tab=results]');
  await page.waitForSelector('#runs-table tbody tr');
  assert.equal(await page.$$eval('#runs-table tbody tr', (r) => r.length), 3);
  await page.click('#runs-table tbody tr[data-run="var-001-run-002"]');
  await page.waitForSelector('#file-view[data-file="world-state-000.md"]');
  assert.match(await page.textContent('#file-view h1'), /World State - Turn 0/);
  const files = await page.$$eval('#file-tabs button', (b) => b.map((x) => x.dataset.file));
  assert.deepEqual(files.slice(0, 4), ['world-state-000.md', 'world-state-001.md', 'council-001.md', 'swiftride-001.md']);
  await page.click('#file-tabs button[data-file="council-001.md"]');
  await page.waitForSelector('#file-view[data-file="council-001.md"]');
  assert.match(await page.textContent('#file-view'), /Action/);
  const byActor = await page.$$eval('#cost-by-actor td:first-child', (t) => t.map((x) => x.textContent));
  const onDisk = JSON.parse(await readOpfs(page, 'projects/examples/experiments/quick-start/runs/var-001-run-002/costs.json'));
  assert.deepEqual(byActor, Object.keys(onDisk.by_actor));
  assert.deepEqual(await page.$$eval('#cost-by-role td:first-child', (t) => t.map((x) => x.textContent)), Object.keys(onDisk.by_role));
  await shot(page, '4-results');
  assert.deepEqual(tab.errors, []);
});

let zipPath;

test('the output tree downloads as a zip in the CLI layout, and uploads back for browsing', async () => {
  const { page } = tab;
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-zip')]);
  assert.equal(download.suggestedFilename(), 'quick-start.zip');
  zipPath = join(tmp, 'quick-start.zip');
  await download.saveAs(zipPath);
  const entries = unzipSync(readFileSync(zipPath));
  const names = Object.keys(entries).sort();
  for (const f of ['batch-config.yaml', 'batch-state.json', 'batch-costs.json', 'batch-summary.json']) assert.ok(names.includes(`quick-start/${f}`), f);
  const runFiles = names.filter((n) => n.startsWith('quick-start/runs/var-001-run-001/')).map((n) => n.split('/').at(-1));
  for (const f of ['costs.json', 'metrics.json', 'scenario-state.json', 'scenario.log', 'llm-calls.jsonl', 'world-state-000.md', 'council-001.md']) assert.ok(runFiles.includes(f), f);
  // The same bytes as the files in OPFS.
  const opfs = await opfsFiles(page, 'projects/examples/experiments/quick-start');
  for (const [path, text] of Object.entries(opfs)) {
    const rel = path.replace('projects/examples/experiments/', '');
    assert.equal(strFromU8(entries[rel]), text, rel);
  }
  assert.equal(names.length, Object.keys(opfs).length);

  // Upload it back, as a person analysing results would (into memory, not storage).
  await page.setInputFiles('#upload-zip-input', zipPath);
  await page.waitForFunction(() => document.querySelector('#results-source')?.selectedOptions[0]?.textContent.startsWith('Uploaded: quick-start.zip'));
  await page.waitForSelector('#runs-table tbody tr');
  assert.equal(await page.$$eval('#runs-table tbody tr', (r) => r.length), 3);
  assert.equal(await figure(page, 'completed', '#results-summary'), '3');
  await page.click('#runs-table tbody tr[data-run="var-001-run-003"]');
  await page.waitForSelector('#file-view[data-file="world-state-000.md"]');
  await shot(page, '5-uploaded-results');
  assert.deepEqual(tab.errors, []);
});

test('a bad YAML edit shows its error at its line, and nothing runs', async () => {
  const { page } = tab;
  await page.click('a[data-tab=experiment]');
  const original = await page.inputValue('#config-text');
  const lines = original.split('\n');
  const at = lines.findIndex((l) => l.startsWith('runs_per_variation:'));
  assert.ok(at > 0);
  lines[at] = 'runs_per_variaton: 3';
  const out = lines.findIndex((l) => l.startsWith('output_dir:'));
  lines[out] = 'output_dir: "experiments/never-run"';
  await typeConfig(page, lines.join('\n'));
  await page.waitForSelector('#validity.bad');
  const line = at + 1;
  await page.waitForSelector(`#gutter div.err[data-line="${line}"]`);
  assert.equal(await page.$$eval('#gutter div.err', (d) => d.length), 1);
  const first = await page.textContent('#diagnostics li');
  assert.match(first, new RegExp(`^Line ${line}, column 1: unknown key \`runs_per_variaton\``));
  assert.match(first, /did you mean `runs_per_variation`/);
  await shot(page, '6-bad-yaml');

  await page.click('a[data-tab=run]');
  await page.waitForFunction(() => /The config has errors/.test(document.querySelector('#run-status').textContent));
  await page.click('#start');
  await page.waitForSelector('#alert:not([hidden])');
  assert.match(await page.textContent('#alert'), /The batch config has errors; nothing was run/);
  assert.equal(await readOpfs(page, 'projects/examples/experiments/never-run/batch-state.json'), null);
  assert.deepEqual(Object.keys(await opfsFiles(page, 'projects/examples/experiments/never-run')), []);
  // Nothing was saved either: the stored config is the one that ran.
  assert.equal(await readOpfs(page, `projects/examples/${QUICK}`), original);

  // Fixing the line clears the error.
  await page.click('a[data-tab=experiment]');
  await typeConfig(page, original);
  await page.waitForSelector('#validity.ok');
  assert.equal(await page.$$eval('#gutter div.err', (d) => d.length), 0);
  assert.deepEqual(tab.errors, []);
});

/** A study folder as a user keeps one: a scenario and a batch config next to it. */
function studyFolder(name, runs) {
  const dir = join(tmp, name);
  cpSync(join(ROOT, 'scenarios', 'quick-negotiation'), join(dir, 'scenarios', 'negotiation'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', 'junk'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'junk', 'index.js'), 'skipped');
  writeFileSync(join(dir, 'study.yaml'), `experiment_name: "${name}"
base_scenario: "scenarios/negotiation"
runs_per_variation: ${runs}
max_parallel: 2
output_dir: "out"
`);
  return dir;
}

function filesUnder(dir) {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? filesUnder(join(dir, n)) : [join(dir, n)]));
}

test('a folder and a zip from disk open as projects, and their batches run', async () => {
  const tab2 = await openPage(env);
  const { page } = tab2;
  await ready(page);

  // A folder (the folder-upload input; the File System Access picker needs a person to click).
  const folder = studyFolder('folder-study', 2);
  await page.setInputFiles('#folder-input', folder);
  await page.waitForFunction(() => document.querySelector('#config-select').value === JSON.stringify(['folder-study', 'study.yaml']));
  await page.waitForSelector('#validity.ok');
  assert.deepEqual(await page.$$eval('#actors-table tbody tr strong', (e) => e.map((x) => x.textContent)), ['council', 'swiftride']);
  assert.match(await page.textContent('#alert'), /Opened folder-study: \d+ file\(s\)/);
  assert.equal(await readOpfs(page, 'projects/folder-study/node_modules/junk/index.js'), null, 'node_modules is not copied');
  await page.click('a[data-tab=run]');
  await page.click('#start');
  assert.match(await batchEnded(page), /^Completed 2 of 2 runs/);
  assert.equal(JSON.parse(await readOpfs(page, 'projects/folder-study/out/batch-summary.json')).runs_completed, 2);

  // A zip of another study (its files under one top folder, as zip tools make them).
  const zipDir = studyFolder('zip-study', 1);
  const entries = {};
  for (const f of filesUnder(zipDir)) entries[`zip-study/${relative(zipDir, f)}`] = new Uint8Array(readFileSync(f));
  await page.click('a[data-tab=experiment]');
  await page.setInputFiles('#zip-input', { name: 'Zip Study.zip', mimeType: 'application/zip', buffer: Buffer.from(zipSync(entries)) });
  await page.waitForFunction(() => document.querySelector('#config-select').value === JSON.stringify(['zip-study', 'study.yaml']));
  await page.waitForSelector('#validity.ok');
  const groups = await page.$$eval('#config-select optgroup', (g) => g.map((x) => x.label));
  assert.deepEqual(groups, ['Bundled examples', 'Opened: folder-study', 'Opened: zip-study']);
  await page.click('a[data-tab=plan]');
  await page.waitForSelector('#plan-figures [data-fig=runs]');
  assert.equal(await page.textContent('#plan-figures [data-fig=runs] .value'), '1');
  await page.click('#plan-to-run');
  await page.click('#start');
  assert.match(await batchEnded(page), /^Completed 1 of 1 runs/);
  assert.deepEqual(tab2.errors, []);
  await tab2.context.close();
});

test('a result folder written by the CLI uploads into the page for browsing', async () => {
  const work = join(tmp, 'cli');
  cpSync(join(ROOT, 'scenarios'), join(work, 'scenarios'), { recursive: true });
  cpSync(join(ROOT, 'experiments', 'quick-start'), join(work, 'experiments', 'quick-start'), { recursive: true, filter: (src) => !/[/\\](runs|analysis)$|batch-(state|costs|summary)\.json$/.test(src) });
  const r = spawnSync(process.execPath, [join(ROOT, 'node', 'cli.js'), 'run', QUICK], { cwd: work, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(r.status, 0, r.stderr);
  const tab3 = await openPage(env);
  const { page } = tab3;
  await ready(page);
  await page.click('a[data-tab=results]');
  await page.setInputFiles('#upload-folder-input', join(work, 'experiments', 'quick-start'));
  await page.waitForFunction(() => document.querySelector('#results-source')?.selectedOptions[0]?.textContent === 'Uploaded: quick-start');
  await page.waitForSelector('#runs-table tbody tr');
  assert.deepEqual(await page.$$eval('#runs-table tbody tr', (r) => r.map((x) => x.dataset.run)), ['var-001-run-001', 'var-001-run-002', 'var-001-run-003']);
  await page.click('#runs-table tbody tr[data-run="var-001-run-001"]');
  await page.waitForSelector('#file-view[data-file="world-state-000.md"]');
  const onDisk = readFileSync(join(work, 'experiments', 'quick-start', 'runs', 'var-001-run-001', 'world-state-001.md'), 'utf8');
  await page.click('#file-tabs button[data-file="world-state-001.md"]');
  await page.waitForSelector('#file-view[data-file="world-state-001.md"]');
  const firstLine = onDisk.split('\n')[0].replace(/^#\s*/, '');
  assert.equal(await page.textContent('#file-view h1'), firstLine);
  // Uploads stay in memory: nothing of them is in the page's storage.
  assert.deepEqual(Object.keys(await opfsFiles(page)).filter((p) => !p.startsWith('projects/examples/')), []);
  assert.deepEqual(tab3.errors, []);
  await tab3.context.close();
});

test('a zip dropped on the page opens as a project, or loads as results on the Results view', async () => {
  const tab4 = await openPage(env);
  const { page } = tab4;
  await ready(page);
  const drop = async (name, bytes) => {
    const dt = await page.evaluateHandle(({ name, data }) => {
      const t = new DataTransfer();
      t.items.add(new File([new Uint8Array(data)], name, { type: 'application/zip' }));
      return t;
    }, { name, data: [...bytes] });
    await page.dispatchEvent('main', 'dragenter', { dataTransfer: dt });
    assert.equal(await page.isVisible('#drop-overlay'), true, 'the page shows where the drop goes');
    await page.dispatchEvent('main', 'drop', { dataTransfer: dt });
  };
  const dir = studyFolder('dropped-study', 1);
  const entries = {};
  for (const f of filesUnder(dir)) entries[relative(dir, f)] = new Uint8Array(readFileSync(f));
  await drop('dropped-study.zip', zipSync(entries));
  await waitFor(page, 'dropped-project', () => document.querySelector('#config-select').value === JSON.stringify(['dropped-study', 'study.yaml']));
  await page.waitForSelector('#validity.ok');
  assert.equal(await page.isHidden('#drop-overlay'), true);

  await page.click('a[data-tab=results]');
  await drop('quick-start.zip', readFileSync(zipPath));
  await waitFor(page, 'dropped-results', () => document.querySelector('#results-source')?.selectedOptions[0]?.textContent === 'Uploaded: quick-start.zip');
  await page.waitForSelector('#runs-table tbody tr');
  assert.equal(await page.$$eval('#runs-table tbody tr', (r) => r.length), 3);
  assert.deepEqual(tab4.errors, []);
  await tab4.context.close();
});

test('the dashboard shows a provider batch job, the time waiting on providers and what was saved', async () => {
  const tab5 = await openPage(env);
  const { page } = tab5;
  await ready(page);
  await page.click('a[data-tab=run]');
  // The page's Dashboard over the package's BatchProgress, fed the core's events as the Run
  // view feeds them (a `job` event of `execution: batch`, a run_finished with its savings), in
  // an element of its own so that the Run view's own dashboard is left alone.
  const seen = await page.evaluate(async () => {
    const { Dashboard, savingsText } = await import('/www/dashboard.js');
    const { BatchProgress } = await import('/lib/batch-progress.js');
    const el = document.createElement('div');
    el.id = 'job-dashboard';
    document.querySelector('#dashboard').after(el);
    const dashboard = new Dashboard(el);
    const progress = new BatchProgress({ totalRuns: 4, runsPerVariation: 4 });
    const frame = () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    const feed = async (...events) => {
      for (const e of events) progress.event(e);
      dashboard.update(progress.snapshot());
      await frame();
    };
    const text = (key) => el.querySelector(`[data-fig="${key}"]`)?.textContent ?? null;
    const job = { job: 'batch_or_1', phase: 'turn 2 decision', model: 'test/a', status: 'in_progress', total: 64, succeeded: 30,
      failed: 2, waited_s: 65, jobs_submitted: 3, total_waited_s: 750, saved: 0.0123 };
    await feed({ type: 'batch_started', data: { experiment_name: 'lock-step', total_runs: 4, to_run: 4, already_completed: 0,
      budget_limit: 1, spent: 0, output_dir: 'experiments/lock-step', resumed: false, max_parallel: 4 } },
    ...['001', '002', '003', '004'].map((n) => ({ type: 'run_started', data: { run_id: `var-001-run-${n}`, description: '' } })));
    const before = { job: text('job'), saved: text('saved') };
    await feed({ type: 'job', data: job });
    const running = { job: text('job'), saved: text('saved'), title: el.querySelector('[data-fig="job"]').title,
      value: el.querySelector('[data-fig="job"]').dataset.value };
    await feed({ type: 'job', data: { ...job, status: 'completed', succeeded: 62, waited_s: 130, total_waited_s: 815, saved: 0.0456 } },
      { type: 'run_finished', data: { run_id: 'var-001-run-001', status: 'completed', cost: 0.01, spent: 0.01, halt_reason: null, error: null,
        savings: { prompt_tokens: 10000, cached_tokens: 4200, cache_saved: 0.002, batch_calls: 10, batch_saved: 0.005 } } });
    const finished = { job: text('job'), saved: text('saved'), savedValue: Number(el.querySelector('[data-fig="saved"]').dataset.value) };
    // Event text is text: a phase carrying markup stays inert.
    await feed({ type: 'job', data: { ...job, phase: '<img src=x onerror=alert(1)>' } });
    const inert = { label: el.querySelector('[data-fig="job"] .label').textContent, images: el.querySelectorAll('img').length };
    return {
      before, running, finished, inert,
      line: savingsText({ prompt_tokens: 10000, cached_tokens: 4200, cache_saved: 0.002, batch_calls: 10, batch_saved: 0.005 }),
      none: savingsText({ prompt_tokens: 10000, cached_tokens: 0, cache_saved: 0, batch_calls: 0, batch_saved: 0 }),
    };
  });
  assert.deepEqual(seen.before, { job: null, saved: null }, 'nothing of jobs or savings before they are known');
  assert.equal(seen.running.job, 'Batch job · turn 2 decisionin_progress 32 / 642 failed · waited 1m05s12m30s on providers (3 jobs)');
  assert.equal(seen.running.value, '32/64');
  assert.equal(seen.running.title, 'test/a: job batch_or_1');
  assert.equal(seen.running.saved, 'Saved$0.01$0.01 by batch prices', 'the jobs\' running saving');
  assert.equal(seen.finished.job, 'Batch job · turn 2 decisioncompleted 64 / 642 failed · waited 2m10s13m35s on providers (3 jobs)');
  assert.equal(seen.finished.saved, 'Saved$0.05$0.05 by batch prices · $0.0020 by caches' + 'cache hit rate 42%');
  assert.ok(Math.abs(seen.finished.savedValue - 0.0476) < 1e-12, 'the jobs\' batch saving (above the finished runs\') and the caches\'');
  assert.deepEqual(seen.inert, { label: 'Batch job · <img src=x onerror=alert(1)>', images: 0 });
  assert.equal(seen.line, 'Saved $0.0070 against realtime prices: $0.0050 by batch jobs (10 calls), $0.0020 by prompt caches (42% of prompt tokens cached)');
  assert.equal(seen.none, null, 'no line when nothing was batched or cached');
  await shot(page, '15-batch-job');
  assert.deepEqual(tab5.errors, []);
  assert.deepEqual(tab5.dialogs, []);
  await tab5.context.close();
});
