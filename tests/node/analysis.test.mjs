// The analysis end to end (issue 5): a real batch made by the batch runner over real HTTP to the
// fake server, analysed when it ends and again with `analyze --report`; the original tool's
// folders; a symbolic link planted in a result folder; the library API; report.html opened in
// headless Chromium (a screenshot is saved under test-artifacts/). Needs pkg/ built.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startFakeLlm } from '../fake-llm/server.mjs';
import { runCli as cli } from './run-cli.mjs';
import { BatchAnalyzer } from '../../node/index.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const FIXTURES = join(ROOT, 'tests', 'fixtures', 'original-output');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const COST = 0.0002;

let srv;
let tmp;
let batchDir;


const json = (path) => JSON.parse(readFileSync(path, 'utf8'));

before(async () => {
  srv = await startFakeLlm({ port: 0, latencyMs: 5, costPerCall: COST });
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-analysis-'));
  // A 2x2 design: the council's model (two models of the fake server) x the number of turns.
  batchDir = join(tmp, 'two-by-two');
  const config = join(tmp, 'two-by-two.yaml');
  writeFileSync(config, `experiment_name: two-by-two
base_scenario: ${join(ROOT, 'scenarios', 'quick-negotiation')}
runs_per_variation: 4
max_parallel: 4
output_dir: ${batchDir}
success: "data_sharing_level >= 3"
prices:
  test/a: {prompt: 1.0, completion: 2.0}
  test/b: {prompt: 2.0, completion: 4.0}
variations:
  - type: actor_model
    actor: council
    values: [test/a, test/b]
  - type: scenario_parameter
    parameter: turns
    values: [2, 3]
`);
  const r = await cli(['run', config, '--no-progress', '--base-url', srv.url]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Analysis: .*two-by-two\/analysis\/ \(analysis-report\.md, report\.html, runs\.csv/);
});

after(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('a batch is analysed when it ends, and analyze --report prints the report', async () => {
  for (const f of ['metrics-analysis.json', 'variation-statistics.json', 'patterns.json', 'analysis-report.md', 'report.html', 'runs.csv']) {
    assert.ok(existsSync(join(batchDir, 'analysis', f)), `analysis/${f} was written at the end of the batch`);
  }
  const r = await cli(['analyze', batchDir, '--report']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^# Batch Analysis Report/);
  for (const s of ['**Experiment:** two-by-two', '## Overall Metrics', '## Variation Comparison', '## What Changed the Outcome', '## Cost Efficiency', '## How Many Runs Are Enough', '## Methods']) {
    assert.ok(r.stdout.includes(s), `the report has ${s}`);
  }
  assert.match(r.stderr, /Analysed 16 runs in 4 variations \(16 completed, \d+ successful\)/);

  // The factors come from the runs: the council's model and the number of turns.
  const patterns = json(join(batchDir, 'analysis', 'patterns.json'));
  assert.deepEqual(patterns.factor_levels, { 'council.model': ['test/a', 'test/b'], turns: ['2', '3'] });
  assert.equal(patterns.interactions.length > 0, true, 'a two-factor design tests the interaction');
  assert.equal(patterns.total_runs, 16);

  // Money: the analysis's total equals the server's bill, exactly as the runs recorded it.
  const vs = json(join(batchDir, 'analysis', 'variation-statistics.json'));
  const total = Object.values(vs).reduce((s, v) => s + v.cost.total, 0);
  const billed = srv.stats().totalCost;
  assert.ok(billed > 0 && Math.abs(total - billed) < 1e-9, `${total} vs ${billed}`);
  assert.deepEqual(Object.keys(vs), ['1', '2', '3', '4']);

  // runs.csv: one row per run, factors as columns, ready for pandas.
  const rows = readFileSync(join(batchDir, 'analysis', 'runs.csv'), 'utf8').trim().split('\n');
  assert.equal(rows.length, 17);
  assert.equal(rows[0], 'run_id,variation_id,variation,council.model,turns,status,halt_reason,success,turns_completed,cost_usd,data_sharing_level,privacy_mentions');
  assert.match(rows[1], /^var-001-run-001,1,"?council=a, turns=2"?,test\/a,2,completed,,(true|false),2,/);

  // --json is the same analysis, whole.
  const j = await cli(['analyze', batchDir, '--json', '--success', 'data_sharing_level >= 100']);
  assert.equal(j.code, 0, j.stderr);
  assert.equal(JSON.parse(j.stdout).patterns.successful_runs, 0);
});

test('the original tool\'s V1 and V2 folders analyse, with their quirks read as meant', async () => {
  for (const [name, format, runs] of [['v1-batch', 'V1 run files', 6], ['v2-batch', 'V2 run files', 4]]) {
    const dir = join(tmp, name);
    cpSync(join(FIXTURES, name), dir, { recursive: true });
    const r = await cli(['analyze', dir, '--report']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`original Scenario Lab output, ${format}`), r.stdout);
    assert.match(r.stderr, new RegExp(`Analysed ${runs} runs in 2 variations`));
    assert.ok(existsSync(join(dir, 'analysis', 'report.html')));
  }
});

test('a symbolic link in a result folder cannot lead the analysis outside it', async () => {
  const dir = join(tmp, 'linked');
  cpSync(join(FIXTURES, 'v1-batch'), dir, { recursive: true });
  const outside = join(tmp, 'outside-run');
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, 'scenario-state.json'), JSON.stringify({ status: 'completed', current_turn: 3 }));
  writeFileSync(join(outside, 'metrics.json'), JSON.stringify({ final_metrics: { trust: 1000 } }));
  symlinkSync(outside, join(dir, 'runs', 'var-003-run-001'));
  const r = await cli(['analyze', dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const a = JSON.parse(r.stdout);
  assert.equal(a.patterns.total_runs, 6, 'the linked run was not read');
  assert.ok(a.problems.some((p) => p.path === 'runs/var-003-run-001/scenario-state.json'), JSON.stringify(a.problems));
  assert.ok(!JSON.stringify(a).includes('1000'));
});

test('a folder that is not a batch output is a usage error', async () => {
  const r = await cli(['analyze', join(tmp, 'nothing-here')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /has no runs\/ folder: expected a batch output folder/);
  const bad = await cli(['analyze', batchDir, '--success', 'data_sharing_level >']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /does not parse: at column \d+: expected a number, found the end of the condition/);
});

test('the library API: the original guide\'s manual analysis, in JavaScript', async () => {
  const analyzer = new BatchAnalyzer(batchDir);
  assert.throws(() => analyzer.calculateMetricStatistics(), /call collectRunData\(\) first/);
  const totals = await analyzer.collectRunData();
  assert.equal(totals.total_runs, 16);
  const metrics = analyzer.calculateMetricStatistics();
  assert.equal(typeof metrics.data_sharing_level.mean, 'number');
  assert.equal(metrics.data_sharing_level.count, 16);
  const comparison = analyzer.compareVariations('data_sharing_level');
  assert.equal(comparison.length, 4);
  assert.ok(comparison[0].mean >= comparison[3].mean, 'best first');
  const patterns = analyzer.identifyPatterns();
  assert.equal(typeof patterns.success_rate, 'number');
  assert.ok(analyzer.generateAnalysisReport().startsWith('# Batch Analysis Report'));
  assert.deepEqual(Object.keys(analyzer.calculateVariationStatistics()), ['1', '2', '3', '4']);
});

test('report.html opens in Chromium with its charts and no script', async (t) => {
  if (!existsSync('/usr/bin/chromium')) {
    t.skip('no /usr/bin/chromium');
    return;
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(join(batchDir, 'analysis', 'report.html')).href);
    const facts = await page.evaluate(() => ({
      svgs: document.querySelectorAll('svg').length,
      points: document.querySelectorAll('svg circle').length,
      scripts: document.scripts.length,
      title: document.title,
      h1: document.querySelector('h1')?.textContent,
    }));
    assert.equal(facts.scripts, 0);
    assert.equal(facts.h1, 'Batch Analysis Report');
    assert.ok(facts.svgs >= 5, `charts: ${facts.svgs}`);
    assert.ok(facts.points >= 16, `points: ${facts.points}`);
    assert.deepEqual(errors, []);
    assert.equal(requests.length, 1, `self-contained: ${requests.join(', ')}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'analysis-report.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});
