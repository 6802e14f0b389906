// Lock-step batch mode (issue 12) end to end: the CLI against the fake server's batch APIs
// (OpenAI's files + batches, Anthropic's Message Batches, OpenRouter's inline batches), over
// real HTTP. The same batch realtime and in batch mode gives the same run files apart from
// costs and timings, at half the price, in turns × phases jobs whatever the number of runs; a
// kill while a job is pending and a resume submit no request twice; expired and failed requests
// are resubmitted; a server without a batch API, and the deadline, send calls realtime; the
// budget holds per job. Needs pkg/ built.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLlm } from '../fake-llm/server.mjs';
import { runCli, ROOT, CLI } from './run-cli.mjs';

const PRICE = { prompt: 1, completion: 2 };
const MODEL = 'test/model';

let tmp;
let scenario;

before(() => {
  assert.ok(existsSync(join(ROOT, 'pkg', 'scenario_lab_bg.wasm')), 'pkg/ is not built: run `npm run build`');
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-lockstep-'));
  // The quick negotiation (3 turns: decisions, then the world update) on a hosted model.
  scenario = join(tmp, 'scenario');
  cpSync(join(ROOT, 'scenarios', 'quick-negotiation'), scenario, { recursive: true });
  for (const f of ['scenario.yaml', 'actors/council.yaml', 'actors/swiftride.yaml']) {
    const p = join(scenario, f);
    writeFileSync(p, readFileSync(p, 'utf8').replaceAll('builtin/simulator', MODEL));
  }
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function fake(options = {}) {
  return startFakeLlm({ port: 0, models: [MODEL], pricePerMillion: { [MODEL]: PRICE }, batchDelayMs: 40, ...options });
}

/** A batch config of `runs` runs; returns its path. */
function config(name, runs, extra = '') {
  const out = join(tmp, name);
  const path = join(tmp, `${name}.yaml`);
  writeFileSync(path, `experiment_name: ${name}\nbase_scenario: ${scenario}\nruns_per_variation: ${runs}\nmax_parallel: 2\n` +
    `output_dir: ${out}\nprices: {"${MODEL}": {prompt: ${PRICE.prompt}, completion: ${PRICE.completion}}}\n${extra}`);
  return { path, out };
}

function run(path, base, ...args) {
  return runCli(['run', path, '--base-url', base, ...args], { env: { SCENARIO_LAB_API_KEY: 'test-key' } });
}

const runsOf = (out) => readdirSync(join(out, 'runs')).sort();
const calls = (out, id) => readFileSync(join(out, 'runs', id, 'llm-calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const costs = (out) => JSON.parse(readFileSync(join(out, 'batch-costs.json'), 'utf8')).summary;
const jobs = (out) => readFileSync(join(out, 'batch-jobs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

/** Starts a batch in `out` with the seed of the batch in `from`, so both ask the same. The
 * state is edited as text: a JSON round trip in JavaScript would write the fingerprint's 10.0
 * as 10, which a resume rightly reads as a changed scenario. */
function sameSeed(from, out) {
  const text = readFileSync(join(from, 'batch-state.json'), 'utf8')
    .replace(/"completed_runs": \[[^\]]*\]/, '"completed_runs": []')
    .replace(/"output_dir": "[^"]*"/, `"output_dir": ${JSON.stringify(out)}`);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'batch-state.json'), text);
}

test('batch mode writes the run files realtime writes, at half the price, in turns × phases jobs', async () => {
  const srv = await fake();
  try {
    const rt = config('realtime', 4);
    const r1 = await run(rt.path, srv.url);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(srv.stats().batches.jobsCreated, 0);
    const realtimeRequests = srv.stats().requests;

    const bt = config('batch', 4);
    sameSeed(rt.out, bt.out);
    const r2 = await run(bt.path, srv.url, '--resume', '--execution', 'batch');
    assert.equal(r2.code, 0, r2.stderr);
    const b = srv.stats().batches;
    // 3 turns × (decisions, world update), for 4 runs at once.
    assert.equal(b.jobsCreated, 6, JSON.stringify(b.jobsById));
    assert.equal(b.requestsSubmitted, realtimeRequests);
    assert.equal(srv.stats().requests, realtimeRequests, 'no realtime call in batch mode');
    assert.match(r2.stdout + r2.stderr, /Saved \$[\d.]+ against realtime prices/);

    for (const id of runsOf(rt.out)) {
      for (const f of readdirSync(join(rt.out, 'runs', id))) {
        if (['costs.json', 'llm-calls.jsonl', 'scenario.log', 'scenario-state.json'].includes(f)) continue;
        assert.equal(readFileSync(join(bt.out, 'runs', id, f), 'utf8'), readFileSync(join(rt.out, 'runs', id, f), 'utf8'), `${id}/${f}`);
      }
      // By key: concurrent calls are logged in the order their answers came, which no mode fixes.
      const strip = (c) => c.map(({ key, reply, prompt_tokens, completion_tokens, request_hash }) => ({ key, reply, prompt_tokens, completion_tokens, request_hash }))
        .sort((a, b) => (a.key < b.key ? -1 : 1));
      assert.deepEqual(strip(calls(bt.out, id)), strip(calls(rt.out, id)));
      assert.ok(calls(bt.out, id).every((c) => c.batch_job && c.batch_saved_nanos > 0));
    }
    const [rc, bc] = [costs(rt.out), costs(bt.out)];
    const ratio = bc.total_spent / rc.total_spent;
    console.log(`# realtime $${rc.total_spent.toFixed(6)}, batch $${bc.total_spent.toFixed(6)}: ratio ${ratio.toFixed(3)} (target <= 0.55)`);
    assert.ok(ratio <= 0.55, `batch costs ${ratio} of realtime`);
    assert.ok(Math.abs(bc.savings.batch_saved - (rc.total_spent - bc.total_spent)) < 1e-6);
    assert.equal(jobs(bt.out).length, 6);
  } finally {
    await srv.close();
  }
});

test('a kill -9 while a job is pending, then --resume: no request is submitted twice', async () => {
  const srv = await fake({ batchDelayMs: 4000 });
  try {
    const { path, out } = config('killed', 3, 'execution: batch\n');
    const child = spawn(process.execPath, [CLI, 'run', path, '--base-url', srv.url], {
      cwd: ROOT, env: { ...process.env, NO_COLOR: '1', SCENARIO_LAB_API_KEY: 'test-key', OPENROUTER_API_KEY: '' }, stdio: 'ignore',
    });
    const exited = new Promise((done) => child.on('close', done));
    // Killed once the second job is pending and journalled: the first was collected, the
    // second was not.
    const journalled = () => existsSync(join(out, 'batch-jobs.jsonl')) && jobs(out).length;
    for (let i = 0; i < 600 && !(srv.stats().batches.jobsCreated >= 2 && journalled() >= 2); i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGKILL');
    await exited;
    assert.equal(srv.stats().batches.jobsCreated, 2, 'killed while the second job was pending');
    assert.equal(jobs(out).length, 2, 'both jobs journalled before the kill');

    srv.configure({ batchDelayMs: 40 });
    const r = await run(path, srv.url, '--resume');
    assert.equal(r.code, 0, r.stderr);
    const b = srv.stats().batches;
    assert.equal(b.duplicateRequests, 0, 'a request answered in a job was submitted again');
    assert.equal(b.jobsCreated, 6, 'the pending job was collected, not submitted again');
    for (const id of runsOf(out)) {
      const keys = calls(out, id).map((c) => c.key);
      assert.equal(new Set(keys).size, keys.length, `${id}: a call logged twice`);
      assert.equal(keys.length, 9, id);
    }
    const state = JSON.parse(readFileSync(join(out, 'batch-state.json'), 'utf8'));
    assert.equal(state.completed_runs.length, 3);
  } finally {
    await srv.close();
  }
});

test('expired and failed requests are resubmitted, only those', async () => {
  const srv = await fake({ batchFail: 0.25, batchExpire: { after_ms: 60, share: 0.6 } });
  try {
    const { path, out } = config('flaky', 3, 'execution: batch\n');
    const r = await run(path, srv.url);
    assert.equal(r.code, 0, r.stderr);
    const b = srv.stats().batches;
    assert.equal(b.duplicateRequests, 0);
    assert.ok(b.requestsSubmitted > 27, `some requests were resubmitted (${b.requestsSubmitted} for 27 calls)`);
    for (const id of runsOf(out)) assert.equal(calls(out, id).length, 9, id);
    assert.equal(JSON.parse(readFileSync(join(out, 'batch-state.json'), 'utf8')).completed_runs.length, 3);
  } finally {
    await srv.close();
  }
});

test('a server with no batch API runs realtime within the lock-step, and says so', async () => {
  const srv = await fake({ batchApi: false });
  try {
    const { path, out } = config('nobatch', 2, 'execution: batch\n');
    const r = await run(path, srv.url);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /has no batch API/);
    assert.equal(srv.stats().requests, 18);
    for (const id of runsOf(out)) assert.ok(calls(out, id).every((c) => !c.batch_job));
  } finally {
    await srv.close();
  }
});

test("Anthropic's Message Batches and OpenRouter's batches", async () => {
  const srv = await fake();
  try {
    for (const [api, base] of [['anthropic', srv.url.replace('/v1', '/anthropic/v1')], ['openrouter', srv.url.replace('/v1', '/openrouter/v1')]]) {
      const { path, out } = config(`via-${api}`, 2, 'execution: batch\n');
      const r = await run(path, base);
      assert.equal(r.code, 0, `${api}: ${r.stderr}`);
      const mine = Object.values(srv.stats().batches.jobsById).filter((j) => j.api === api);
      assert.equal(mine.length, 6, api);
      for (const id of runsOf(out)) {
        const c = calls(out, id);
        assert.equal(c.length, 9);
        assert.ok(c.every((x) => x.batch_job), api);
        // OpenRouter bills in the answer (usage.cost); Anthropic's results carry tokens only.
        assert.ok(c.every((x) => x.cost_source === (api === 'openrouter' ? 'provider' : 'price')), api);
      }
    }
  } finally {
    await srv.close();
  }
});

test('near batch_deadline the pending job is cancelled and its calls go realtime', async () => {
  const srv = await fake({ batchDelayMs: 600_000 });
  try {
    const { path, out } = config('deadline', 2, 'execution: batch\nbatch_deadline: 3s\n');
    const r = await run(path, srv.url);
    assert.equal(r.code, 0, r.stderr);
    const b = srv.stats().batches;
    assert.equal(b.jobsCreated, 1);
    assert.ok(Object.values(b.jobsById).every((j) => j.status === 'cancelled'), JSON.stringify(b.jobsById));
    assert.equal(srv.stats().requests, 18, 'every call answered realtime');
    assert.equal(JSON.parse(readFileSync(join(out, 'batch-state.json'), 'utf8')).completed_runs.length, 2);
  } finally {
    await srv.close();
  }
});

test('the budget holds per job: every request is reserved at the batch price before it is submitted', async () => {
  const srv = await fake();
  try {
    const budget = 0.004;
    const { path, out } = config('budget', 6, `execution: batch\nbudget_limit: ${budget}\n`);
    // A cost far beyond the budget needs confirming (--yes): this test means it.
    const r = await run(path, srv.url, '--yes');
    const spent = costs(out).total_spent;
    console.log(`# spent $${spent.toFixed(6)} of $${budget} (${((100 * spent) / budget).toFixed(0)}%)`);
    assert.ok(spent <= budget, `spent ${spent} over the budget ${budget}`);
    assert.ok(spent > budget * 0.5, `stopped at ${spent}: under half the budget used`);
    assert.match(r.stdout + r.stderr, /Stopped at the budget/);
  } finally {
    await srv.close();
  }
});

test('a provider that ignores the output cap in a job stops a budgeted batch, as realtime does', async () => {
  const srv = await fake({ ignoreMaxTokens: true, replyTokens: { world: 1600 } });
  try {
    const { path, out } = config('ignored-cap', 3, 'execution: batch\nbudget_limit: 1\n');
    const r = await run(path, srv.url);
    const all = r.stdout + r.stderr;
    assert.match(all, /ignored the output cap/, all);
    assert.match(all, /Stopped at the budget/, all);
    const over = runsOf(out).flatMap((id) => calls(out, id)).filter((c) => c.completion_tokens > c.max_tokens);
    assert.ok(over.length > 0 && over.every((c) => c.batch_job), 'the over-cap replies came from jobs');
    const summary = JSON.parse(readFileSync(join(out, 'batch-summary.json'), 'utf8'));
    assert.ok(JSON.stringify(summary).includes('over_cap'), 'counted in batch-summary.json');
  } finally {
    await srv.close();
  }
});
