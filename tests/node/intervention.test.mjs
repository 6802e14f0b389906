// The intervention example (experiments/intervention: an intervention at turn 3 of
// scenarios/city-ai-rollout, on the built-in simulator) through the real CLI, in a scratch copy
// of the project (issue 13, part 3): the dry run shows what the shared turns save; the batch
// runs every run once; each arm's first two turns are its source's call log lines, byte for
// byte, made once (replayed in the arms, not sent again); and the arms diverge from turn 3.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli } from './run-cli.mjs';

const CONFIG = 'experiments/intervention/batch-config.yaml';
const RUNS = 2;
const ARMS = ['baseline', 'audit-leak', 'cautious-manager', 'council-freeze'];
const SHARED_TURNS = 2;

let work;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'scenario-lab-intervention-'));
  cpSync(join(ROOT, 'scenarios'), join(work, 'scenarios'), { recursive: true });
  mkdirSync(join(work, 'experiments', 'intervention'), { recursive: true });
  cpSync(join(ROOT, CONFIG), join(work, CONFIG));
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const runDir = (v, r) => join(work, 'experiments', 'intervention', 'runs', `var-${String(v).padStart(3, '0')}-run-${String(r).padStart(3, '0')}`);
const lines = (dir) => readFileSync(join(dir, 'llm-calls.jsonl'), 'utf8').split('\n').filter(Boolean);
const turnOf = (line) => JSON.parse(line).turn;
const json = (path) => JSON.parse(readFileSync(path, 'utf8'));

test('the intervention example shares its first two turns, paid once, and its arms diverge at turn 3', async () => {
  const plan = await runCli(['run', CONFIG, '--dry-run', '--json'], { cwd: work });
  assert.equal(plan.code, 0, plan.stderr);
  const p = JSON.parse(plan.stdout);
  assert.deepEqual(
    { at_turn: p.sharing.at_turn, arms: p.sharing.arms, branched_runs: p.sharing.branched_runs },
    { at_turn: 3, arms: 4, branched_runs: (ARMS.length - 1) * RUNS },
  );
  assert.ok(p.sharing.calls_saved > 0, JSON.stringify(p.sharing));
  assert.deepEqual(p.models.map((m) => m.model), ['builtin/simulator'], 'no key needed');

  const r = await runCli(['run', CONFIG, '--json'], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const summary = events.find((e) => e.type === 'summary').data;
  assert.equal(summary.runs_completed, ARMS.length * RUNS);
  assert.equal(summary.total_runs, ARMS.length * RUNS);
  const started = events.filter((e) => e.type === 'run_started').map((e) => e.data);
  assert.equal(started.length, ARMS.length * RUNS, 'every run started once');

  let sharedCalls = 0;
  let sentCalls = 0;
  for (let run = 1; run <= RUNS; run++) {
    const source = lines(runDir(1, run));
    const prefix = source.filter((l) => turnOf(l) <= SHARED_TURNS);
    assert.ok(prefix.length > 0);
    sentCalls += source.length;
    for (let v = 2; v <= ARMS.length; v++) {
      const dir = runDir(v, run);
      const mine = lines(dir);
      // The same first two turns, line for line: the source's calls, copied.
      assert.deepEqual(mine.filter((l) => turnOf(l) <= SHARED_TURNS), prefix, `${dir}: turns 1-2`);
      // Made once: the arm replayed them and sent only turns 3 to 6.
      const costs = json(join(dir, 'costs.json'));
      assert.equal(costs.savings.shared_calls, prefix.length, `${dir}: replayed, not sent`);
      assert.equal(costs.calls, mine.length - prefix.length, `${dir}: calls it paid for`);
      assert.match(readFileSync(join(dir, 'scenario.log'), 'utf8'), new RegExp(`${mine.length - prefix.length} calls sent, ${prefix.length} replayed from the log`));
      sharedCalls += prefix.length;
      sentCalls += mine.length - prefix.length;
      // And diverges at turn 3.
      const third = (ls) => ls.filter((l) => turnOf(l) === 3).map((l) => JSON.parse(l).reply);
      assert.notDeepEqual(third(mine), third(source), `${dir} diverges at turn 3`);
      assert.notEqual(readFileSync(join(dir, 'world-state-003.md'), 'utf8'), readFileSync(join(runDir(1, run), 'world-state-003.md'), 'utf8'));
      assert.equal(readFileSync(join(dir, 'world-state-002.md'), 'utf8'), readFileSync(join(runDir(1, run), 'world-state-002.md'), 'utf8'));
      const state = json(join(dir, 'scenario-state.json'));
      assert.equal(state.spec.branch.at_turn, SHARED_TURNS);
      assert.equal(state.spec.modifications.intervention.arm.name, ARMS[v - 1]);
      assert.equal(started.find((s) => s.run_id === `var-00${v}-run-00${run}`).shares_prefix_of, `var-001-run-00${run}`);
    }
  }
  assert.equal(summary.savings.shared_calls, sharedCalls, 'the summary says what sharing saved');
  assert.equal(json(join(work, 'experiments', 'intervention', 'batch-summary.json')).cost_summary.savings.shared_calls, sharedCalls);
  assert.ok(readFileSync(join(runDir(2, 1), 'world-state-003.md'), 'utf8').includes('- **audit-leak:** A draft internal audit'));
  // The analysis compares the arms as levels of one factor, the control first.
  const patterns = json(join(work, 'experiments', 'intervention', 'analysis', 'patterns.json'));
  assert.deepEqual(patterns.factor_levels, { 'intervention@3': ARMS });
  console.log(`intervention example: ${sentCalls} calls made, ${sharedCalls} replayed from shared turns, $${summary.savings.shared_saved} saved (built-in model)`);
});
