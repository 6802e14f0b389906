// Model ids checked before the first call (issue 10, item 6): with a key, `validate`,
// `run --dry-run` and `run` look every model id the batch calls up in the provider's list
// (the fake server's GET /v1/models, its `models` option) and suggest the listed id meant; an
// unknown id is a warning for validate and an error for run, which then writes nothing and sends
// nothing. Without a key nothing is fetched. Needs pkg/ built.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeLlm } from '../fake-llm/server.mjs';
import { runCli } from './run-cli.mjs';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const KEY = 'sk-model-check-never-print-me';
// What OpenRouter calls the original's default model, and a few others.
const LISTED = ['anthropic/claude-3.5-sonnet', 'anthropic/claude-3-haiku', 'openai/gpt-4o-mini'];
const SONNET = 'anthropic/claude-3-5-sonnet-20241022';

let srv;
let tmp;

before(async () => {
  assert.ok(existsSync(join(ROOT, 'pkg', 'scenario_lab_bg.wasm')), 'pkg/ is not built: run `npm run build`');
  srv = await startFakeLlm({ port: 0, models: LISTED, apiKey: KEY });
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-models-'));
});

after(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A batch of the quick negotiation whose council is played by each of `models`. */
function config(name, models) {
  const path = join(tmp, `${name}.yaml`);
  const out = join(tmp, name);
  writeFileSync(path, `experiment_name: ${name}
base_scenario: ${join(ROOT, 'scenarios', 'quick-negotiation')}
runs_per_variation: 1
output_dir: ${out}
variations:
  - type: actor_model
    actor: council
    values: [${models.map((m) => JSON.stringify(m)).join(', ')}]
`);
  return { path, out };
}

const withKey = (args) => runCli(args, { env: { SCENARIO_LAB_BASE_URL: srv.url, SCENARIO_LAB_API_KEY: KEY } });
const DID_YOU_MEAN = `model \`${SONNET}\` is not in the provider's model list; did you mean \`anthropic/claude-3.5-sonnet\`?`;

test('validate with a key warns about an unknown model id, with a did-you-mean', async () => {
  const { path } = config('validate', [SONNET, 'openai/gpt-4o-mni', 'anthropic/claude-3-haiku', 'ollama/llama3']);
  const r = await withKey(['validate', path]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stderr.includes(`scenario-lab: warning: ${DID_YOU_MEAN}`), r.stderr);
  assert.ok(r.stderr.includes("model `openai/gpt-4o-mni` is not in the provider's model list; did you mean `openai/gpt-4o-mini`?"), r.stderr);
  assert.ok(!/haiku|ollama|builtin/.test(r.stderr), `listed and local ids are not reported:\n${r.stderr}`);
  assert.match(r.stderr, /checked against the 3 models listed by http:\/\/127\.0\.0\.1:\d+\/v1\/models/);
  assert.match(r.stdout, /^valid batch config: .* \(0 errors, 2 warnings\)$/m);
  assert.ok(!r.stdout.includes(KEY) && !r.stderr.includes(KEY));

  const j = await withKey(['validate', path, '--json']);
  const report = JSON.parse(j.stdout);
  assert.equal(report.ok, true);
  assert.deepEqual(report.model_check.unknown.map((u) => [u.model, u.suggestion]), [
    [SONNET, 'anthropic/claude-3.5-sonnet'],
    ['openai/gpt-4o-mni', 'openai/gpt-4o-mini'],
  ]);
  assert.deepEqual(report.model_check.not_checked, ['builtin/simulator', 'ollama/llama3']);
});

test('without a key, validate fetches nothing and says nothing about model ids', async (t) => {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push(req.url);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: [] }));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  t.after(() => server.close());
  const { path } = config('no-key', [SONNET]);
  const r = await runCli(['validate', path], { env: { SCENARIO_LAB_BASE_URL: `http://127.0.0.1:${server.address().port}/v1` } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(seen, []);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /\(0 errors, 0 warnings\)/);
});

test('run with an unknown model id stops before anything is written or sent (exit 2)', async () => {
  const { path, out } = config('run', [SONNET, 'anthropic/claude-3-haiku']);
  srv.reset();
  const r = await withKey(['run', path]);
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.stderr.includes(`scenario-lab: error: ${DID_YOU_MEAN}`), r.stderr);
  assert.match(r.stderr, /nothing was written and no request was sent/);
  assert.ok(!existsSync(out), 'no output folder');
  assert.equal(srv.stats().requests, 0, 'no chat request');

  // The dry run shows the plan, and the same error.
  const dry = await withKey(['run', path, '--dry-run']);
  assert.equal(dry.code, 2, dry.stderr);
  assert.match(dry.stdout, /^Plan: run/m);
  assert.ok(dry.stderr.includes(`scenario-lab: error: ${DID_YOU_MEAN}`), dry.stderr);
  const plan = JSON.parse((await withKey(['run', path, '--dry-run', '--json'])).stdout);
  assert.equal(plan.model_check.unknown[0].suggestion, 'anthropic/claude-3.5-sonnet');
  assert.ok(!existsSync(out));
});

test('with every id listed, the batch runs', async () => {
  const { path, out } = config('listed', ['anthropic/claude-3.5-sonnet', 'anthropic/claude-3-haiku']);
  srv.reset();
  const r = await withKey(['run', path, '--no-progress']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!/not in the provider's model list/.test(r.stderr), r.stderr);
  assert.ok(srv.stats().requests > 0);
  assert.ok(existsSync(join(out, 'batch-summary.json')));
});
