// Bad real servers (issue 10): the CLI against the fake server playing a provider that writes
// long replies, answers slowly, ignores max_tokens or bills by the token. Every request carries
// an output cap and a reply cut at it is recorded; runs that time out in a batch stop their
// calls and pay only for what they record; a provider that ignores the cap stops a budgeted
// batch; a budget is spent (>= 90%) and never overrun. Needs pkg/ built.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeLlm } from '../fake-llm/server.mjs';
import { runCli as cli } from './run-cli.mjs';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const QUICK = join(ROOT, 'scenarios', 'quick-negotiation');
// The default output caps per role (the batch guide's table).
const CAPS = { actor: 800, world: 1000, communication: 300, metric: 40, check: 400, summary: 600 };
const ACTORS = 2; // quick-negotiation: council and swiftride
const PRICE = { prompt: 0.5, completion: 10 }; // USD per million tokens, as billed and as `prices:`

let tmp;
const servers = [];

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-bad-server-'));
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function server(opts) {
  const srv = await startFakeLlm({ port: 0, ...opts });
  servers.push(srv);
  return srv;
}

const json = (p) => JSON.parse(readFileSync(p, 'utf8'));
const lines = (p) => (existsSync(p) ? readFileSync(p, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
const events = (stdout) => stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const runDirs = (out) => (existsSync(join(out, 'runs')) ? readdirSync(join(out, 'runs')).sort().map((id) => join(out, 'runs', id)) : []);
const show = (r) => `exit ${r.code}\nstderr:\n${r.stderr.slice(-3000)}`;

/** A copy of the quick negotiation in tmp with its actors and world on the fake server's models. */
function scenario(name, { actors = 'test/a', world = 'test/a' } = {}) {
  const dir = join(tmp, `scenario-${name}`);
  cpSync(QUICK, dir, { recursive: true });
  for (const f of ['scenario.yaml', 'actors/council.yaml', 'actors/swiftride.yaml']) {
    const p = join(dir, f);
    const text = readFileSync(p, 'utf8');
    const model = f === 'scenario.yaml' ? world : actors;
    assert.match(text, /"builtin\/simulator"/, p);
    writeFileSync(p, text.replaceAll('"builtin/simulator"', `"${model}"`));
  }
  return dir;
}

/** A batch of the quick negotiation with every model on the fake server, written into tmp. */
function batch(name, { runs = 2, parallel = 2, models = {}, variations, extra = '' }) {
  const out = join(tmp, name);
  const path = join(tmp, `${name}.yaml`);
  writeFileSync(path, `experiment_name: ${name}
base_scenario: ${scenario(name, models)}
runs_per_variation: ${runs}
max_parallel: ${parallel}
output_dir: ${out}
prices:
  test/a: {prompt: ${PRICE.prompt}, completion: ${PRICE.completion}}
  test/b: {prompt: ${PRICE.prompt}, completion: ${PRICE.completion}}
  test/big: {prompt: ${PRICE.prompt}, completion: ${PRICE.completion}}
variations:
${variations ?? `  - type: actor_model
    actor: council
    values: [${models.actors ?? 'test/a'}]`}
${extra}`);
  return { path, out };
}

/** A batch file, or the CLI's output when it is missing. */
function batchFile(out, name, r) {
  const p = join(out, name);
  assert.ok(existsSync(p), `no ${name}: ${show(r)}`);
  return json(p);
}

test('every request carries a cap per role with no --max-tokens, and a reply cut at its cap is recorded', { timeout: 90_000 }, async () => {
  // World updates run past their cap (1500 > 1000); actor decisions stay within theirs.
  const srv = await server({ latencyMs: 5, replyTokens: { world: 1500, actor: 300 } });
  const out = join(tmp, 'capped-run');
  const r = await cli(['scenario', 'scenarios/quick-negotiation', '--turns', '2', '--output', out, '--seed', '3', '--json',
    '--model-override', 'council=test/a', '--model-override', 'swiftride=test/a', '--model-override', 'world=test/a'],
  { env: { SCENARIO_LAB_BASE_URL: srv.url } });
  assert.equal(r.code, 0, show(r));

  const seen = srv.stats().calls;
  assert.equal(seen.length, 6, 'two decisions and a world update per turn');
  for (const c of seen) assert.ok(Number.isInteger(c.maxTokens) && c.maxTokens > 0, `a request without a cap: ${JSON.stringify(c)}`);
  assert.deepEqual(seen.filter((c) => c.role === 'world').map((c) => c.maxTokens), [CAPS.world, CAPS.world]);
  assert.deepEqual(seen.filter((c) => c.role === 'actor').map((c) => c.maxTokens), Array(4).fill(CAPS.actor));

  const log = lines(join(out, 'llm-calls.jsonl'));
  assert.equal(log.length, 6);
  for (const c of log) {
    assert.equal(typeof c.max_tokens, 'number', `llm-calls.jsonl line without max_tokens: ${JSON.stringify({ ...c, reply: undefined })}`);
    assert.ok(c.finish_reason === null || typeof c.finish_reason === 'string', `finish_reason: ${c.finish_reason}`);
    assert.ok(c.completion_tokens <= c.max_tokens, `${c.completion_tokens} tokens over a cap of ${c.max_tokens}`);
  }
  const world = log.filter((c) => c.role === 'world');
  assert.deepEqual(world.map((c) => [c.max_tokens, c.finish_reason, c.completion_tokens]), [[1000, 'length', 1000], [1000, 'length', 1000]]);
  assert.ok(log.filter((c) => c.role === 'actor').every((c) => c.max_tokens === 800 && c.finish_reason === 'stop'));
  const state = json(join(out, 'scenario-state.json'));
  assert.equal(state.status, 'completed');
  assert.equal(state.truncated_replies, 2, 'the run counts its cut replies');

  // In a batch: the summary counts them too.
  srv.reset();
  const b = batch('capped-batch', { runs: 2 });
  const rb = await cli(['run', b.path, '--base-url', srv.url, '--json']);
  assert.equal(rb.code, 0, show(rb));
  const cut = srv.stats().calls.filter((c) => c.finishReason === 'length').length;
  assert.equal(cut, 2 * 3, 'three turns, one cut world update each, two runs');
  let perRun = 0;
  for (const dir of runDirs(b.out)) perRun += json(join(dir, 'scenario-state.json')).truncated_replies;
  assert.equal(perRun, cut);
  assert.equal(batchFile(b.out, 'batch-summary.json', rb).truncated_replies, cut);
});

test('runs timing out in a batch stop their calls, pay only for what they record, and later runs go on', { timeout: 90_000 }, async () => {
  // 300 ms a call, three calls a turn in two rounds: a 4-turn run needs >= 2.4 s and always
  // passes the 1.6 s limit; a 1-turn run needs about 0.6 s.
  const srv = await server({ latencyMs: 300, costPerCall: 0.0001 });
  const parallel = 2;
  const b = batch('timeouts', {
    runs: 6,
    parallel,
    variations: `  - type: scenario_parameter
    parameter: turns
    values: [4, 1]
  - type: actor_model
    actor: council
    values: [test/a]`,
    extra: 'timeout_per_run: 1.6\n',
  });
  // Runs far longer than their timeout need confirming (--yes): this test means them.
  const r = await cli(['run', b.path, '--yes', '--base-url', srv.url, '--json']);
  const ev = events(r.stdout);
  const finished = ev.filter((e) => e.type === 'run_finished').map((e) => e.data);
  assert.equal(finished.length, 12, show(r));

  const timedOut = finished.filter((d) => d.halt_reason === 'timeout');
  assert.equal(timedOut.length, 6, `the 4-turn runs time out: ${JSON.stringify(finished.map((d) => [d.run_id, d.status, d.halt_reason]))}`);
  assert.ok(timedOut.every((d) => d.variation_id === 1 && d.status === 'halted'));
  for (const d of timedOut) {
    const state = json(join(b.out, 'runs', d.run_id, 'scenario-state.json'));
    assert.deepEqual([state.status, state.halt_reason], ['halted', 'timeout'], d.run_id);
  }
  const firstTimeout = finished.findIndex((d) => d.halt_reason === 'timeout');
  const completedLater = finished.slice(firstTimeout + 1).filter((d) => d.status === 'completed');
  assert.ok(completedLater.length > 0, 'runs started after a timeout still send and complete');
  assert.equal(finished.filter((d) => d.status === 'completed').length, 6);

  // Settle: a call the client dropped is aborted (or answered) within a moment.
  for (let i = 0; i < 100 && srv.stats().inFlight > 0; i++) await new Promise((res) => setTimeout(res, 20));
  const s = srv.stats();
  const recorded = runDirs(b.out).reduce((n, dir) => n + lines(join(dir, 'llm-calls.jsonl')).length, 0);
  const spent = json(join(b.out, 'batch-costs.json')).summary.total_spent_nanos;
  // Each of these is checked, and every one that fails is reported.
  const problems = [];
  if (!(s.answered >= recorded && s.answered <= recorded + s.aborted)) {
    problems.push(`the server answered ${s.answered} calls, the runs recorded ${recorded}, ${s.aborted} were aborted before an answer`);
  }
  if (s.peakInFlight > parallel * ACTORS) {
    problems.push(`the server saw ${s.peakInFlight} requests at once; max_parallel ${parallel} x ${ACTORS} actors allows ${parallel * ACTORS}`);
  }
  if (spent !== recorded * 100_000) problems.push(`the batch total ${spent} nano-dollars is not what the runs recorded (${recorded} calls x 100,000)`);
  assert.deepEqual(problems, []);
});

test('a provider ignoring max_tokens stops a budgeted batch, naming the model, within the in-flight overrun', { timeout: 90_000 }, async () => {
  // Decisions run to 2000 tokens whatever the cap (800) says; the world model behaves.
  const srv = await server({ latencyMs: 20, ignoreMaxTokens: true, replyTokens: { actor: 2000 }, pricePerMillion: PRICE });
  const parallel = 2;
  const budget = 0.05;
  const b = batch('ignores-cap', {
    runs: 6,
    parallel,
    models: { actors: 'test/big', world: 'test/a' },
    extra: `budget_limit: ${budget}\n`,
  });
  // A cost far beyond the budget needs confirming (--yes): this test means it.
  const r = await cli(['run', b.path, '--yes', '--base-url', srv.url]);
  assert.notEqual(r.code, 0, show(r));
  const summary = batchFile(b.out, 'batch-summary.json', r);
  assert.equal(summary.stop_reason, 'budget', show(r));
  assert.ok(summary.runs_completed < 6, `${summary.runs_completed} runs completed`);
  assert.match(`${summary.stop_message}\n${r.stderr}`, /test\/big/, 'the message names the model that ignored its cap');

  const calls = srv.stats().calls.filter((c) => c.outcome === 'answered');
  assert.ok(calls.some((c) => c.completionTokens > c.maxTokens), 'the provider did ignore the cap');
  // The most the calls in flight at the stop can have overrun their reservations.
  const overruns = calls.map((c) => Math.max(0, c.completionTokens - c.maxTokens) * PRICE.completion * 1e3).sort((x, y) => y - x);
  const allowance = overruns.slice(0, parallel * ACTORS).reduce((a, x) => a + x, 0);
  const spent = json(join(b.out, 'batch-costs.json')).summary.total_spent_nanos;
  assert.ok(spent <= budget * 1e9 + allowance, `spent ${spent / 1e9} of ${budget}, allowance ${allowance / 1e9}`);
});

test('a reply far past its cap is kept only to 256 KB, and terminal escapes in replies never reach the Markdown', { timeout: 90_000 }, async () => {
  // Decisions of 150,000 tokens (~600 KB) whatever the cap says; one decision carries ANSI
  // colours, a cursor move and a window-title sequence.
  const escapes = 'REASONING: \x1b[31;1mred alert\x1b[0m\x1b[2J\nACTION: Offer hourly data \x1b]0;pwned\x07now.';
  const srv = await server({
    latencyMs: 5,
    ignoreMaxTokens: true,
    replyTokens: { actor: 150_000 },
    script: [{ match: 'Turn 1', reply: escapes }],
  });
  const b = batch('rambling', { runs: 1, parallel: 1 });
  const r = await cli(['run', b.path, '--base-url', srv.url]);
  assert.equal(r.code, 0, show(r));
  const [run] = runDirs(b.out);
  const calls = lines(join(run, 'llm-calls.jsonl'));
  const cut = calls.filter((c) => c.reply_cut_bytes > 0);
  assert.ok(cut.length > 0, 'some replies were cut');
  for (const c of calls) assert.ok(Buffer.byteLength(c.reply) <= 256 * 1024, `${c.key}: ${Buffer.byteLength(c.reply)} bytes kept`);
  for (const c of cut) assert.ok(Buffer.byteLength(c.reply) + c.reply_cut_bytes > 500_000, `${c.key} was long`);
  assert.match(readFileSync(join(run, 'scenario.log'), 'utf8'), /the reply was \d+\.\d [KM]B; only its first 256\.0 KB were kept/);
  assert.ok(calls.some((c) => c.reply.includes('\x1b[31;1m')), 'the escapes were received and logged (as JSON escapes)');
  const markdown = readdirSync(run).filter((n) => n.endsWith('.md') || n === 'scenario.log');
  assert.ok(markdown.length > 3, markdown.join(', '));
  for (const name of markdown) {
    const text = readFileSync(join(run, name), 'utf8');
    assert.doesNotMatch(text, /[\x00-\x08\x0b-\x1f\x7f]/, `${name} holds a control character`);
  }
  assert.ok(markdown.some((n) => readFileSync(join(run, n), 'utf8').includes('red alert')), 'the text around the escapes is kept');
});

test('a budget covering about half a batch is spent to >= 90% and never overrun', { timeout: 120_000 }, async () => {
  // Replies whose length varies by role (within the caps), billed by the token.
  const srv = await server({ latencyMs: 10, pricePerMillion: PRICE, replyTokens: { actor: { min: 100, max: 700 }, world: { min: 200, max: 900 } } });
  const variations = `  - type: actor_model
    actor: council
    values: [test/a, test/b]`;
  // What the whole batch costs, unbudgeted.
  const full = batch('budget-full', { runs: 6, parallel: 4, variations });
  const rf = await cli(['run', full.path, '--base-url', srv.url]);
  assert.equal(rf.code, 0, show(rf));
  const whole = json(join(full.out, 'batch-costs.json')).summary.total_spent_nanos;
  assert.ok(whole > 0);

  const budget = Math.round(whole / 2) / 1e9;
  const half = batch('budget-half', { runs: 6, parallel: 4, variations, extra: `budget_limit: ${budget}\n` });
  const r = await cli(['run', half.path, '--base-url', srv.url]);
  const summary = batchFile(half.out, 'batch-summary.json', r);
  assert.equal(summary.stop_reason, 'budget', show(r));
  const spent = json(join(half.out, 'batch-costs.json')).summary.total_spent_nanos;
  assert.equal(summary.cost_summary.total_spent_nanos, spent);
  const used = spent / (budget * 1e9);
  console.log(`budget use: spent ${spent / 1e9} of ${budget} (${(100 * used).toFixed(1)}%); the whole batch cost ${whole / 1e9}`);
  assert.ok(spent <= Math.round(budget * 1e9), `spent ${spent / 1e9}, over the budget of ${budget}`);
  assert.ok(used >= 0.9, `spent only ${(100 * used).toFixed(1)}% of the budget`);
});
