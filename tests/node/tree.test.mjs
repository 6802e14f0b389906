// What the hosts used to decide themselves and now ask the core (issue 11): which models are
// hosted, what a config file is, where a project's batch configs are, where a dropped result tree starts, and what is on
// disk of a batch and its runs. Through the package's Node entry, over an in-memory storage
// (lib/storage/memory.js, the one the page uses for uploads). Needs pkg/ built.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryStorage } from '../../lib/storage/memory.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const api = await import('../../node/index.js');

test('isHostedModel: neither the built-in simulator nor the local server', () => {
  const ids = ['builtin/simulator', 'ollama/llama3', 'local/smollm2', 'openai/gpt-4o-mini', 'anthropic/claude-3-haiku'];
  assert.deepEqual(ids.filter((m) => api.isHostedModel(m)), ['openai/gpt-4o-mini', 'anthropic/claude-3-haiku']);
});

test('configKind: a scenario.yaml, a YAML file with a top-level base_scenario, or neither', () => {
  assert.equal(api.configKind('s/scenario.yaml', 'name: s\n'), 'scenario');
  assert.equal(api.configKind('b.yaml', 'experiment_name: e\nbase_scenario: s\n'), 'batch');
  assert.equal(api.configKind('b.yaml', 'base_scenario: s\nvariations: [\n'), 'batch', 'while it is being edited');
  assert.equal(api.configKind('b.yaml', 'name: x\n'), null);
});

test('findBatchConfigs leaves out the copies batches keep in their output folders', async () => {
  const s = memoryStorage({
    'experiments/a/batch-config.yaml': 'base_scenario: s\n',
    'experiments/a/batch-state.json': '{"config_path": "experiments/a/batch-config.yaml"}',
    'experiments/b.yaml': 'base_scenario: s\noutput_dir: out/b\n',
    'out/b/batch-config.yaml': 'base_scenario: s\n',
    'out/b/batch-state.json': '{"config_path": "experiments/b.yaml"}',
    'scenarios/s/scenario.yaml': 'name: s\n',
  });
  assert.deepEqual(await api.findBatchConfigs('', s), ['experiments/a/batch-config.yaml', 'experiments/b.yaml']);
});

test('resultRoot, batchStatus and listRuns read a dropped result tree', async () => {
  const s = memoryStorage({
    'upload/notes.txt': 'x',
    'upload/exp/batch-summary.json': '{"experiment_name": "e", "cost_summary": {"total_spent": 0.5}, "stop_reason": null}',
    'upload/exp/runs/var-001-run-001/scenario-state.json': '{"status": "completed", "current_turn": 3, "total_turns": 3}',
    'upload/exp/runs/var-001-run-001/costs.json': '{"total_cost": 0.5, "total_cost_nanos": 500000000, "calls": 9}',
    'upload/exp/runs/var-001-run-002/scenario-state.json': 'not json',
    'upload/exp/runs/var-001-run-003/costs.json': '{"totals": {"total_cost_usd": 0.25}}',
  });
  const root = await api.resultRoot('', s);
  assert.equal(root, 'upload/exp');
  assert.equal(await api.resultRoot('upload/exp/runs/var-001-run-002', s), null);
  const status = await api.batchStatus(root, s);
  assert.equal(status.started, false);
  assert.equal(status.experiment_name, 'e');
  assert.equal(status.total_spent, 0.5);
  assert.deepEqual(status.runs, [
    // Partial files (the engine's whole ones are the last test's): what they hold.
    { run_id: 'var-001-run-001', status: 'completed', halt_reason: null, error: null, turns: 3, total_turns: null, cost: 0.5, cost_nanos: 500000000, calls: null },
    { run_id: 'var-001-run-002', status: 'unknown', halt_reason: null, error: null, turns: null, total_turns: null, cost: null, cost_nanos: null, calls: null },
    // The original tool's V1 costs.json.
    { run_id: 'var-001-run-003', status: 'unknown', halt_reason: null, error: null, turns: null, total_turns: null, cost: 0.25, cost_nanos: null, calls: null },
  ]);
  assert.deepEqual(await api.listRuns(root, s), status.runs);
  assert.deepEqual(await api.readRun(`${root}/runs/var-001-run-001`, s), status.runs[0]);
});

test('readRun lists a run the engine wrote (a whole scenario-state.json and costs.json)', async () => {
  const dir = join(ROOT, 'scenarios', 'quick-negotiation');
  const files = Object.fromEntries(readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => [`s/${relative(dir, join(e.parentPath, e.name))}`, readFileSync(join(e.parentPath, e.name), 'utf8')]));
  const s = memoryStorage(files);
  const outcome = await api.runScenario({ scenarioDir: 's', output: 'out/run-001', turns: 2, seed: 1 }, s, {});
  assert.equal(outcome.status, 'completed');
  const run = await api.readRun('out/run-001', s);
  assert.deepEqual({ ...run, cost_nanos: typeof run.cost_nanos }, {
    run_id: 'run-001', status: 'completed', halt_reason: null, error: null, turns: 2, total_turns: 2,
    cost: 0, cost_nanos: 'number', calls: outcome.calls_sent,
  });
});
