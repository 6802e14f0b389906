// The package's TypeScript declarations against the package: tests/types/consumer.ts (every
// export, used as a consumer would) and the values the package really produces (a batch run on
// the built-in model: its events, outcome, files, analysis, plan, calibration, listings), each
// written as a typed constant, compile under `tsc --noEmit --strict`. An object literal with a
// key its type does not declare, or a value of another type, is an error, so a declaration that
// drifts from what the core writes fails here. A deliberately wrong sample proves the check
// bites. Needs pkg/ built (the build also generates the JavaScript's declarations).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './run-cli.mjs';

const api = await import('../../node/index.js');
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');

let tmp;
const samples = []; // [name, type, value]

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-types-'));
  cpSync(join(ROOT, 'scenarios/quick-negotiation'), join(tmp, 'scenario'), { recursive: true });
  const config = join(tmp, 'batch.yaml');
  writeFileSync(
    config,
    [
      'experiment_name: types',
      `base_scenario: "${join(tmp, 'scenario')}"`,
      'runs_per_variation: 2',
      'max_parallel: 2',
      `output_dir: "${join(tmp, 'out')}"`,
      'variations:',
      '  - type: scenario_parameter',
      '    parameter: turns',
      '    values: [1, 2]',
      '',
    ].join('\n'),
  );
  const storage = api.nodeStorage();
  const add = (name, type, value) => samples.push([name, type, value]);

  add('invalid', 'ValidationReport', await api.validate(join(tmp, 'nowhere.yaml'), storage));
  add('valid', 'ValidationReport', await api.validate(config, storage));
  const plan = await api.planBatch(config, storage);
  add('plan', 'Plan', plan);
  const events = [];
  const progress = new api.BatchProgress({ totalRuns: plan.total_runs, runsPerVariation: plan.runs_per_variation });
  const outcome = await api.runBatch(config, storage, {}, { onEvent: (e) => { events.push(e); progress.event(e); } });
  add('outcome', 'BatchOutcome', outcome);
  add('events', 'BatchEvent[]', events);
  add('snapshot', 'ReturnType<BatchProgress["snapshot"]>', progress.snapshot());
  const out = join(tmp, 'out');
  const json = (path) => JSON.parse(readFileSync(join(out, path), 'utf8'));
  add('batchState', 'BatchState', json('batch-state.json'));
  add('batchCosts', 'BatchCosts', json('batch-costs.json'));
  add('batchSummary', 'BatchSummary', json('batch-summary.json'));
  const run = 'runs/var-002-run-001';
  add('state', 'ScenarioState', json(`${run}/scenario-state.json`));
  add('metrics', 'Metrics', json(`${run}/metrics.json`));
  add('costs', 'Costs', json(`${run}/costs.json`));
  const calls = readFileSync(join(out, run, 'llm-calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  add('calls', 'CallRecord[]', calls);
  add('analysis', 'Analysis', await api.analyzeBatch(out, storage, { write: false }));
  add('calibration', 'Calibration', await api.calibrateBatch(config, storage));
  add('status', 'BatchStatus', await api.batchStatus(out, storage));
  add('listed', 'RunListing[]', await api.listRuns(out, storage));
  add('shard', 'ResolvedShard', api.resolveShard('auto', 4, { JOB_COMPLETION_INDEX: '1' }));
  add('merged', 'MergeOutcome', await api.mergeBatches([out], join(tmp, 'merged'), storage));
  const single = await api.runScenario({ scenarioDir: join(tmp, 'scenario'), output: join(tmp, 'single'), turns: 1 }, storage, {});
  add('single', 'ScenarioResult', single);
  const list = JSON.stringify({ data: [{ id: 'openai/gpt-4o-mini' }] });
  writeFileSync(join(tmp, 'hosted.yaml'), readFileSync(config, 'utf8').replace('variations:', 'variations:\n  - type: actor_model\n    actor: swiftride\n    values: ["openai/gpt-4o-mni"]'));
  add('models', 'ModelCheck | null', await api.checkModels(join(tmp, 'hosted.yaml'), storage, list));
  const answers = api.initTemplate('crisis-response');
  add('answers', 'Answers', answers);
  add('project', 'Project', api.initProject(answers, { runs: 2 }));
  add('templates', 'TemplateInfo[]', api.initTemplates());
  add('choices', 'ModelChoice[]', api.initModels());
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Writes `samples.ts` (each sample a typed constant) and a tsconfig, runs tsc; its result. */
function compile(entries, { consumer = false } = {}) {
  const lines = [
    "import type * as SL from '" + join(ROOT, 'index.js') + "';",
    "import type { BatchProgress } from '" + join(ROOT, 'index.js') + "';",
    ...entries.map(([name, type, value]) => {
      const qualified = type.replace(/\b([A-Z]\w*)\b(?!")/g, (t) => (t === 'ReturnType' || t === 'BatchProgress' ? t : `SL.${t}`));
      return `export const ${name}: ${qualified} = ${JSON.stringify(value, null, 1)};`;
    }),
  ];
  writeFileSync(join(tmp, 'samples.ts'), `${lines.join('\n')}\n`);
  const files = [join(tmp, 'samples.ts'), ...(consumer ? [join(ROOT, 'tests/types/consumer.ts')] : [])];
  writeFileSync(
    join(tmp, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        lib: ['es2022', 'dom'],
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files,
    }),
  );
  return spawnSync(process.execPath, [TSC, '-p', join(tmp, 'tsconfig.json')], { encoding: 'utf8' });
}

test('the whole API and every value the package produced type-check under --strict', () => {
  assert.ok(samples.length >= 20, `only ${samples.length} samples`);
  const kinds = new Set(samples.find(([n]) => n === 'events')[2].map((e) => e.type));
  for (const k of ['batch_started', 'run_started', 'run_finished', 'analysis', 'summary']) assert.ok(kinds.has(k), `no ${k} event`);
  const r = compile(samples, { consumer: true });
  assert.equal(r.status, 0, `tsc --strict failed:\n${r.stdout}${r.stderr}`);
});

test('a value that does not match its declaration fails the check', () => {
  const [, , state] = samples.find(([n]) => n === 'state');
  const wrong = [
    ['unknownKey', 'ScenarioState', { ...state, not_a_field: 1 }],
    ['wrongType', 'ScenarioState', { ...state, status: 'finished' }],
  ];
  for (const sample of wrong) {
    const r = compile([sample]);
    assert.notEqual(r.status, 0, `tsc accepted ${sample[0]}`);
    assert.match(r.stdout, /error TS/);
  }
});
