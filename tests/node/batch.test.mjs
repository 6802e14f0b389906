// The batch runner end to end (issue 4): the real wasm build driven by the CLI, over real HTTP
// to the fake server. A 2x2 experiment at max_parallel 4; a budget halt and a resume with a
// higher limit; SIGKILL at random instants, each followed by --resume; a server answering 30%
// of requests with 429. Needs pkg/ built.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeLlm } from '../fake-llm/server.mjs';
import { runCli as cli } from './run-cli.mjs';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CLI = join(ROOT, 'node', 'cli.js');
const COST = 0.0001;

let srv;
let tmp;

before(async () => {
  srv = await startFakeLlm({ port: 0, latencyMs: 10, costPerCall: COST });
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-batch-'));
});

after(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});


/** A 2x2 batch of the quick negotiation whose actors are played by two models of the fake server. */
function config(name, extra = '') {
  const out = join(tmp, name);
  const path = join(tmp, `${name}.yaml`);
  writeFileSync(path, `experiment_name: ${name}
base_scenario: ${join(ROOT, 'scenarios', 'quick-negotiation')}
runs_per_variation: 3
max_parallel: 4
output_dir: ${out}
prices:
  test/a: {prompt: 1.0, completion: 2.0}
  test/b: {prompt: 2.0, completion: 4.0}
variations:
  - type: actor_model
    actor: council
    values: [test/a, test/b]
  - type: actor_model
    actor: swiftride
    values: [test/a, test/b]
${extra}`);
  return { path, out };
}

const json = (p) => JSON.parse(readFileSync(p, 'utf8'));
const events = (stdout) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const runs = (out) => readdirSync(join(out, 'runs')).sort();

/** Every run folder is complete, once, and the batch total is the sum of the runs' costs. */
function checkComplete(out, expected = 12) {
  const ids = runs(out);
  assert.equal(ids.length, expected);
  let sum = 0;
  for (const id of ids) {
    const state = json(join(out, 'runs', id, 'scenario-state.json'));
    assert.equal(state.status, 'completed', id);
    const log = readFileSync(join(out, 'runs', id, 'llm-calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).key);
    assert.equal(new Set(log).size, log.length, `${id}: a call logged twice`);
    sum += json(join(out, 'runs', id, 'costs.json')).total_cost_nanos;
  }
  const costs = json(join(out, 'batch-costs.json'));
  assert.equal(costs.summary.total_spent_nanos, sum, 'the batch total is the sum of the runs');
  assert.equal(json(join(out, 'batch-state.json')).completed_runs.length, expected);
  return sum;
}

test('a 2x2 experiment with 3 runs each at max_parallel 4 completes, 4 runs at a time', async () => {
  srv.reset();
  const { path, out } = config('two-by-two');
  const r = await cli(['run', path, '--base-url', srv.url, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const ev = events(r.stdout);
  assert.equal(ev[0].type, 'batch_started');
  assert.equal(ev.at(-1).type, 'summary');
  assert.equal(Math.max(...ev.filter((e) => e.type === 'run_started').map((e) => e.data.in_flight)), 4, 'four runs in flight at once');
  assert.ok(srv.stats().peakInFlight >= 4, `the server saw ${srv.stats().peakInFlight} requests at once`);
  const sum = checkComplete(out);
  assert.equal(sum, Math.round(srv.stats().totalCost * 1e9), 'costs equal what the server billed');
  for (const f of ['batch-state.json', 'batch-costs.json', 'batch-summary.json', 'batch-config.yaml']) assert.ok(existsSync(join(out, f)), f);
  assert.deepEqual(Object.keys(json(join(out, 'batch-costs.json')).variation_statistics), ['1', '2', '3', '4']);
});

test('the budget is spent, then stops the batch, and a resume with a higher limit completes it', async () => {
  srv.reset();
  // Billed by tokens at the config's prices, as a real provider bills: the batch costs about $0.08.
  srv.configure({ pricePerMillion: { 'test/a': { prompt: 1.0, completion: 2.0 }, 'test/b': { prompt: 2.0, completion: 4.0 } } });
  const { path, out } = config('budget', 'budget_limit: 0.05\n');
  // The plan expects about 4 times the budget, which needs confirming (--yes): this test means it.
  const first = await cli(['run', path, '--yes', '--base-url', srv.url]);
  srv.configure({ pricePerMillion: null });
  assert.equal(first.code, 1, first.stderr);
  assert.match(first.stderr, /Stopped at the budget/);
  assert.match(first.stderr, new RegExp(`npx scenario-lab run ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} --resume`));
  const summary = json(join(out, 'batch-summary.json'));
  assert.equal(summary.stop_reason, 'budget');
  assert.ok(summary.cost_summary.total_spent <= 0.05, `spent ${summary.cost_summary.total_spent} of 0.05`);
  // Spent, not abandoned: what is left is less than one call's worst case (under $0.01 here).
  assert.ok(summary.cost_summary.total_spent > 0.04, `spent only ${summary.cost_summary.total_spent} of 0.05`);
  assert.ok(summary.runs_completed < 12);
  const second = await cli(['run', path, '--resume', '--budget-limit', '100', '--base-url', srv.url]);
  assert.equal(second.code, 0, second.stderr);
  const sum = checkComplete(out);
  assert.equal(sum, Math.round(srv.stats().totalCost * 1e9), 'every cent the server billed is in the batch total');
});

test('a model with no price under a budget refuses to start, naming it', async () => {
  const { path } = config('no-price', 'budget_limit: 1\n');
  writeFileSync(path, readFileSync(path, 'utf8').replace('values: [test/a, test/b]\n  - type', 'values: [test/a, test/unpriced]\n  - type'));
  const r = await cli(['run', path, '--base-url', srv.url]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /no price is known for test\/unpriced/);
});

test('SIGKILL at 5 random instants, each followed by --resume, ends with every run exactly once', async () => {
  srv.reset();
  srv.configure({ latencyMs: 15 });
  const { path, out } = config('killed');
  for (let k = 0; k < 5; k++) {
    const child = spawn(process.execPath, [CLI, 'run', path, '--base-url', srv.url, '--json', ...(k ? ['--resume'] : [])], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: 'ignore' });
    const closed = new Promise((r) => child.on('close', r));
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
    child.kill('SIGKILL');
    await closed;
  }
  const r = await cli(['run', path, '--resume', '--base-url', srv.url]);
  assert.equal(r.code, 0, r.stderr);
  const sum = checkComplete(out);
  // Calls in flight at a kill may be answered after they could be recorded; nothing recorded
  // is paid twice, and nothing else is lost.
  const lost = Math.round(srv.stats().totalCost * 1e9) - sum;
  assert.ok(lost >= 0 && lost <= 5 * 8 * Math.round(COST * 1e9), `${lost / (COST * 1e9)} calls lost to the kills`);
  srv.configure({ latencyMs: 10 });
});

test('a server answering 30% of requests with 429 finishes with zero failed runs', async () => {
  srv.reset();
  srv.configure({ faults: { rate429: 0.3 }, retryAfterSeconds: 0 });
  try {
    const { path, out } = config('storm');
    const r = await cli(['run', path, '--base-url', srv.url]);
    assert.equal(r.code, 0, r.stderr);
    checkComplete(out);
    assert.ok(srv.stats().byStatus['429'] > 10, `the storm happened: ${JSON.stringify(srv.stats().byStatus)}`);
  } finally {
    srv.configure({ faults: {} });
  }
});

test('shards run apart with their share of the budget, and merge into one tree', async () => {
  const { path, out } = config('sharded', 'budget_limit: 1.0\n');
  const plan = await cli(['run', path, '--shard', '2/2', '--dry-run', '--base-url', srv.url]);
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /shard 2\/2: 6 of the batch's 12 runs .*\$0\.5000 of the batch's \$1\.00 budget/);
  for (const k of [1, 2]) {
    const r = await cli(['run', path, '--shard', `${k}/2`, '--seed', '42', '--base-url', srv.url]);
    assert.equal(r.code, 0, r.stderr);
    const costs = json(join(out, 'batch-costs.json')).summary;
    assert.equal(costs.budget_limit, 0.5, "a shard's budget is its share");
    assert.ok(costs.total_spent > 0 && costs.total_spent <= 0.5);
    // Each shard writes its own tree (as on two machines): move this one aside.
    rmSync(join(tmp, `shard-${k}`), { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.rename(out, join(tmp, `shard-${k}`)));
  }
  assert.equal(readdirSync(join(tmp, 'shard-1', 'runs')).length, 6);
  const merged = join(tmp, 'merged');
  const missing = await cli(['merge', join(tmp, 'shard-1'), '--output', merged]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /missing shard 2\/2/);
  const m = await cli(['merge', join(tmp, 'shard-2'), join(tmp, 'shard-1'), '--output', merged]);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, /merged shards 1\/2, 2\/2 .*12 of 12 runs completed.*\$[\d.]+ spent of the batch's \$1\.00 budget/);
  checkComplete(merged);
});

test('Ctrl+C stops starting runs, saves, says how to resume; --resume finishes', async () => {
  srv.reset();
  srv.configure({ latencyMs: 150 });
  try {
    const { path, out } = config('interrupted');
    const child = spawn(process.execPath, [CLI, 'run', path, '--base-url', srv.url], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const closed = new Promise((r) => child.on('close', r));
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGINT');
    const code = await closed;
    assert.equal(code, 1, stderr);
    assert.match(stderr, /stopping: no new run starts/);
    assert.match(stderr, /Stopped on request\. Continue with: npx scenario-lab run .* --resume/);
    const summary = json(join(out, 'batch-summary.json'));
    assert.equal(summary.stop_reason, 'interrupted');
    assert.ok(summary.runs_completed < 12);
    const r = await cli(['run', path, '--resume', '--base-url', srv.url]);
    assert.equal(r.code, 0, r.stderr);
    checkComplete(out);
  } finally {
    srv.configure({ latencyMs: 10 });
  }
});
