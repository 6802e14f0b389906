// The worked examples of issue 13, run as a user runs them on the built-in model (the real CLI
// and the real wasm build): a paired model comparison, the same comparison unpaired, and a
// group-sequential comparison that stops early. Each runs in a scratch copy of the project,
// with a fixed batch seed (`--seed`), so that the figures checked are the same every time.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli } from './run-cli.mjs';

let work;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'scenario-lab-designs-'));
  cpSync(join(ROOT, 'scenarios'), join(work, 'scenarios'), { recursive: true });
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Copies example `source`'s config into the scratch project as `name`, edited by `edit`. */
function example(name, edit = (t) => t, source = name) {
  const path = `experiments/${name}/batch-config.yaml`;
  mkdirSync(join(work, 'experiments', name), { recursive: true });
  writeFileSync(join(work, path), edit(readFileSync(join(ROOT, `experiments/${source}/batch-config.yaml`), 'utf8')));
  return path;
}

const read = (path) => readFileSync(join(work, path), 'utf8');
const json = (path) => JSON.parse(read(path));

test('the paired example finds its design and says what pairing gained; unpaired, it does not', async () => {
  const paired = example('paired-comparison');
  const r = await runCli(['run', paired, '--seed', '2026'], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
  const report = read('experiments/paired-comparison/analysis/analysis-report.md');
  assert.match(report, /Paired design on 20 blocks/);
  const gain = /pairing removed (\d+)% of the variance/.exec(report);
  assert.ok(gain, report.slice(0, 2000));
  assert.ok(Number(gain[1]) > 50, `pairing removed only ${gain[1]}% on the simulator`);
  // The seed given is the batch's, recorded.
  assert.equal(json('experiments/paired-comparison/batch-state.json').seed, 2026);
  const seeds = [1, 2].map((v) => json(`experiments/paired-comparison/runs/var-00${v}-run-007/scenario-state.json`).seed);
  assert.equal(seeds[0], seeds[1]);

  const unpaired = example('unpaired', (t) => t.replace('pairing: paired', 'pairing: none').replaceAll('experiments/paired-comparison', 'experiments/unpaired'), 'paired-comparison');
  const u = await runCli(['run', unpaired, '--seed', '2026'], { cwd: work });
  assert.equal(u.code, 0, u.stderr);
  const ureport = read('experiments/unpaired/analysis/analysis-report.md');
  assert.match(ureport, /Independent runs/);
  assert.doesNotMatch(ureport, /pairing removed/);
});

test('the sequential example stops at the look that decides, says so, and the analysis cites the adjusted p', async () => {
  const config = example('sequential-stop');
  const dry = await runCli(['run', config, '--dry-run'], { cwd: work });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /group-sequential test of var-002 against var-001 on data_sharing_level: 5 looks \(after runs 8, 16, 24, 32, 40\)/);
  assert.match(dry.stdout, /power 0\.8 at a planned effect of d_z/);

  const r = await runCli(['run', config, '--seed', '2026'], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
  const said = r.stdout + r.stderr;
  const state = json('experiments/sequential-stop/batch-state.json');
  const looks = state.stopping.looks;
  const last = looks.at(-1);
  assert.notEqual(last.decision, 'continue');
  assert.ok(last.runs < 40, `stopped at run ${last.runs}`);
  assert.match(said, new RegExp(`var-002 stopped after ${last.runs} runs: look ${looks.length} of 5`));
  const summary = json('experiments/sequential-stop/batch-summary.json');
  assert.equal(summary.runs_completed, 2 * last.runs);
  assert.match(said, new RegExp(`${80 - 2 * last.runs} not needed \\(stopping rule\\)`));
  const report = read('experiments/sequential-stop/analysis/analysis-report.md');
  assert.match(report, /The batch was sequential/);
  assert.match(report, /cite the stage-wise adjusted p/);

  // A resume has nothing to do: the decision is re-evaluated from the run folders.
  const again = await runCli(['run', config, '--resume'], { cwd: work });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(json('experiments/sequential-stop/batch-state.json').stopping, state.stopping);
});
