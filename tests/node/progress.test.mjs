// One fold of a batch's events (lib/batch-progress.js) feeds both the page's dashboard and the
// terminal's progress line (node/progress.js): these tests drive it with scripted events and a
// virtual clock, and check that the terminal draws the fold's figures.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchProgress } from '../../lib/batch-progress.js';
import { Progress, statusLine } from '../../node/progress.js';

const started = (d = {}) => ({
  type: 'batch_started',
  data: { experiment_name: 'e', total_runs: 4, to_run: 4, max_parallel: 2, spent: 0, budget_limit: 1, output_dir: 'out', ...d },
});
const runStarted = (id) => ({ type: 'run_started', data: { run_id: id, description: id } });
const finished = (id, status, cost, spent, extra = {}) => ({ type: 'run_finished', data: { run_id: id, status, cost, spent, ...extra } });

test('the fold counts runs, spend, projection and ETA on a virtual clock', () => {
  let now = 1000;
  const p = new BatchProgress({ totalRuns: 4, runsPerVariation: 2, now: () => now });
  assert.equal(p.snapshot().pending, 4, 'every run is known before it starts');
  p.event(started());
  p.event(runStarted('var-001-run-001')).event(runStarted('var-002-run-001'));
  now += 10_000;
  p.event(finished('var-002-run-001', 'completed', 0.1, 0.1, { rate_limits: [{ rate_limited: 3, limit: 4 }] }));
  const s = p.snapshot();
  assert.deepEqual([s.completed, s.running, s.pending, s.finishedThisSession], [1, 1, 2, 1]);
  assert.deepEqual(s.inFlight, ['var-001-run-001']);
  assert.equal(s.elapsedMs, 10_000);
  assert.equal(s.etaMs, 30_000, '10 s per finished run, 3 runs left');
  assert.ok(Math.abs(s.projected - 0.4) < 1e-12, '$0.10 per run, 3 runs left');
  assert.deepEqual([s.rateLimited, s.rateLimit], [3, 4]);
  assert.deepEqual(s.runs.map((r) => r.id), ['var-001-run-001', 'var-001-run-002', 'var-002-run-001', 'var-002-run-002']);
  assert.deepEqual(p.snapshot({ runs: false }).runs, []);
});

test('the ETA and projection never go below zero runs left', () => {
  let now = 0;
  const p = new BatchProgress({ now: () => now });
  p.event(started({ to_run: 1 }));
  for (const id of ['var-001-run-001', 'var-001-run-002']) {
    p.event(runStarted(id));
    now += 1000;
    p.event(finished(id, 'failed', 0.5, now / 1000, { error: 'x' }));
  }
  const s = p.snapshot();
  assert.equal(s.etaMs, 0);
  assert.equal(s.projected, s.spent);
  assert.equal(s.failed, 2);
});

test('the terminal draws the fold: its status line, its lines per run, the analysis for the summary', () => {
  let now = 0;
  const written = [];
  const stream = { write: (t) => written.push(t), columns: 200 };
  const progress = new Progress(stream, { live: false, now: () => now });
  progress.event(started());
  progress.event(runStarted('var-001-run-001'));
  now += 4000;
  progress.event(finished('var-001-run-001', 'halted', 0.25, 0.25, { halt_reason: 'cost_limit' }));
  progress.event({ type: 'analysis', data: { dir: 'out/analysis', files: [], runs: 1, success_rate: 0, problems: 0 } });
  assert.deepEqual(written, [
    'Running e: 4 of 4 runs to do, at most 2 at once, budget $1.00; outputs in out\n',
    '▶ var-001-run-001 var-001-run-001\n',
    '✗ var-001-run-001 halted (cost_limit) $0.25\n',
  ]);
  assert.equal(progress.analysis.dir, 'out/analysis');
  const line = progress.status();
  assert.equal(line, statusLine(progress.fold.snapshot()));
  assert.equal(line, '0/4 done · 0 failed · 1 halted · 0 in flight · $0.25 of $1.00 (projected $1.00) · 4s elapsed · ETA 12s');
});
