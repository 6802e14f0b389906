// lib/batch-progress.js owns what a live view of a batch knows: it folds the core's batch
// events (`runBatch`'s `onEvent`) into figures a view shows: runs done, failed, halted, in
// flight and pending, each run's status, spend against the budget, the projected spend, elapsed
// time and ETA, and rate-limit slowdowns. It draws nothing and decides nothing about the batch;
// the terminal's progress line (node/progress.js), the web page's dashboard and embedding pages
// all draw its `snapshot()`.
//
//   const progress = new BatchProgress({ totalRuns: plan.total_runs, runsPerVariation: plan.runs_per_variation });
//   await runBatch(path, storage, connection, { onEvent: (e) => { progress.event(e); draw(progress.snapshot()); } });
//
// The projection and ETA: this session's spend and time per finished run, times the runs this
// session still has to do (never below zero).

/** @import { AnalysisWritten, BatchEvent, BatchOutcome, JobProgress } from './types.js' */

/**
 * A run's status as a live view knows it: the core's statuses, and `pending` before it starts.
 * @typedef {'pending' | 'running' | 'completed' | 'halted' | 'failed'} RunViewStatus
 */

/**
 * What a live view knows of one run. `status` is a RunViewStatus, or whatever status a seeded
 * run carried.
 * @typedef {object} RunView
 * @property {RunViewStatus | string} status
 * @property {number} [cost] USD
 * @property {string | null} [halt_reason]
 * @property {string | null} [error]
 */

/**
 * What `BatchProgress.snapshot()` returns. Money in USD; times in milliseconds (NaN when not
 * known yet).
 * @typedef {object} BatchSnapshot
 * @property {string | null} experiment
 * @property {string | null} outputDir
 * @property {boolean} resumed
 * @property {number} total
 * @property {number} toRun Runs this session does.
 * @property {number} completed
 * @property {number} failed
 * @property {number} halted
 * @property {number} running In flight.
 * @property {number} pending
 * @property {number} finishedThisSession Runs this session finished.
 * @property {number} spent
 * @property {number | null} budget
 * @property {number} projected Spend at the end, from this session's spend per finished run.
 * @property {number} elapsedMs
 * @property {number} etaMs
 * @property {number} rateLimited 429s seen by the busiest endpoint.
 * @property {number | null} rateLimit That endpoint's concurrency limit now.
 * @property {string[]} inFlight The runs in flight, in the order they started.
 * @property {Array<RunView & { id: string }>} runs Every known run, in run order (empty with `runs: false`).
 * @property {string[]} notes
 * @property {AnalysisWritten | null} analysis The analysis the batch wrote when it ended (its `analysis` event).
 * @property {BatchOutcome | null} outcome The batch's outcome once its `summary` event came.
 * @property {JobProgress | null} job `execution: batch`: the provider job seen last (its phase, status, counts, wait).
 * @property {{ cache: number, batch: number, cachedTokens: number, promptTokens: number }} saved
 *   USD saved by providers' caches and batch prices (finished runs, or the jobs' running figure when larger).
 */

/**
 * The id of the run at 0-based index `i` (variation-major), as the core names run folders.
 * @param {number} i
 * @param {number} runsPerVariation
 * @returns {string} e.g. `var-001-run-001`
 */
export function runId(i, runsPerVariation) {
  const per = Math.max(1, runsPerVariation);
  const pad = (n) => String(n).padStart(3, '0');
  return `var-${pad(Math.floor(i / per) + 1)}-run-${pad((i % per) + 1)}`;
}

/**
 * A sortable number for a run id (`var-002-run-010` -> 2_000_010); ids of another shape last.
 * @param {string} id
 */
function order(id) {
  const m = /^var-(\d+)-run-(\d+)$/.exec(id);
  return m ? Number(m[1]) * 1e6 + Number(m[2]) : Number.MAX_SAFE_INTEGER;
}

const COUNTED = ['completed', 'failed', 'halted', 'running'];

/**
 * Folds `runBatch` events into the figures of a live view. Draws nothing; render `snapshot()`.
 *
 *   const progress = new BatchProgress({ totalRuns: plan.total_runs, runsPerVariation: plan.runs_per_variation });
 *   await runBatch(path, storage, {}, { onEvent: (e) => draw(progress.event(e).snapshot()) });
 */
export class BatchProgress {
  /**
   * @param {{ totalRuns?: number, runsPerVariation?: number, now?: () => number }} [options]
   *   with both counts, every run of the batch is known (as `pending`) before it starts
   */
  constructor(options = {}) {
    /** @type {() => number} */
    this.now = options.now ?? (() => Date.now());
    /** @type {number | null} */
    this.runsPerVariation = options.runsPerVariation ?? null;
    /** @type {Map<string, RunView>} */
    this.runs = new Map(); // run id -> { status, cost, halt_reason, error }
    /** @type {{ completed: number, failed: number, halted: number, running: number }} */
    this.counts = { completed: 0, failed: 0, halted: 0, running: 0 };
    /** @type {Set<string>} */
    this.inFlight = new Set(); // run ids, in the order they started
    /** @type {number} */
    this.total = options.totalRuns ?? 0;
    this.toRun = 0;
    this.spent = 0;
    this.spentAtStart = 0;
    /** @type {number | null} */
    this.budget = null;
    /** @type {number | null} the time of `batch_started` (`now()`), null before it */
    this.started = null;
    this.finishedThisSession = 0;
    this.rateLimited = 0;
    /** @type {number | null} */
    this.rateLimit = null;
    /** @type {string | null} */
    this.experiment = null;
    /** @type {string | null} */
    this.outputDir = null;
    this.resumed = false;
    /** @type {string[]} */
    this.notes = [];
    /** @type {AnalysisWritten | null} */
    this.analysis = null;
    /** @type {BatchOutcome | null} */
    this.outcome = null;
    /** @type {JobProgress | null} */
    this.job = null;
    this.saved = { cache: 0, batch: 0, cachedTokens: 0, promptTokens: 0 };
    this.fillPending();
  }

  /**
   * Records a run's new state, keeping the counts by status.
   * @param {string} id
   * @param {RunView} run
   * @returns {void}
   */
  setRun(id, run) {
    const before = this.runs.get(id)?.status;
    if (COUNTED.includes(before)) this.counts[before]--;
    if (COUNTED.includes(run.status)) this.counts[run.status]++;
    this.runs.set(id, run);
  }

  /**
   * Lists every run of the batch not known yet as `pending` (when both counts are known).
   * @returns {void}
   */
  fillPending() {
    if (!this.runsPerVariation || !this.total) return;
    for (let i = 0; i < this.total; i++) {
      const id = runId(i, this.runsPerVariation);
      if (!this.runs.has(id)) this.setRun(id, { status: 'pending' });
    }
  }

  /**
   * Marks runs already on disk (before a resume), e.g. `[{ run_id, status, cost }]`; until the
   * batch starts, the spend is their total.
   * @param {Array<{ run_id: string, status: string, cost?: number }>} runs
   * @returns {this}
   */
  seed(runs) {
    for (const r of runs) this.setRun(r.run_id, { status: r.status, cost: r.cost ?? 0 });
    // Until the batch starts (its first event carries the exact spend), the spend is what the
    // finished runs on disk cost.
    if (this.started == null) {
      this.spent = this.spentAtStart = [...this.runs.values()].reduce((a, r) => a + (r.status === 'pending' ? 0 : r.cost ?? 0), 0);
    }
    return this;
  }

  /**
   * Takes one event `{ type, data }`; returns this. Unknown types are ignored.
   * @param {BatchEvent | { type: string, data?: unknown }} e
   * @returns {this}
   */
  event(e) {
    const d = e?.data ?? {};
    switch (e?.type) {
      case 'batch_started':
        this.started = this.now();
        this.total = d.total_runs ?? this.total;
        this.toRun = d.to_run ?? 0;
        this.budget = d.budget_limit ?? null;
        this.spent = this.spentAtStart = d.spent ?? 0;
        this.experiment = d.experiment_name ?? null;
        this.outputDir = d.output_dir ?? null;
        this.resumed = Boolean(d.resumed);
        this.finishedThisSession = 0;
        this.outcome = null;
        this.fillPending();
        break;
      case 'run_started':
        this.setRun(d.run_id, { ...this.runs.get(d.run_id), status: 'running' });
        this.inFlight.add(d.run_id);
        break;
      case 'run_finished':
        this.setRun(d.run_id, { status: d.status, cost: d.cost ?? 0, halt_reason: d.halt_reason ?? null, error: d.error ?? null });
        this.inFlight.delete(d.run_id);
        this.spent = d.spent ?? this.spent;
        this.finishedThisSession++;
        if (d.savings) {
          this.saved.cache += d.savings.cache_saved ?? 0;
          this.saved.batch += d.savings.batch_saved ?? 0;
          this.saved.cachedTokens += d.savings.cached_tokens ?? 0;
          this.saved.promptTokens += d.savings.prompt_tokens ?? 0;
        }
        for (const r of d.rate_limits ?? []) {
          if (r.rate_limited >= this.rateLimited) {
            this.rateLimited = r.rate_limited;
            this.rateLimit = r.limit;
          }
        }
        break;
      case 'job':
        this.job = d;
        break;
      case 'note':
      case 'stopped':
        if (d.message) this.notes.push(d.message);
        break;
      case 'analysis':
        // aggregate_metrics: the batch analysed its results when it ended.
        this.analysis = d;
        this.notes.push(`Analysis written to ${d.dir}/ (analysis-report.md, report.html, runs.csv, …)`);
        break;
      case 'summary':
        this.outcome = d;
        if (typeof d.total_spent === 'number') this.spent = d.total_spent;
        break;
      default:
        break;
    }
    return this;
  }

  /**
   * The figures now. Money in USD, times in milliseconds (NaN when not known yet).
   * @param {{ runs?: boolean }} [options] `runs: false` leaves out the list of every run (a
   *   view that redraws often and shows only the figures)
   * @returns {BatchSnapshot}
   */
  snapshot({ runs = true } = {}) {
    const { completed, failed, halted, running } = this.counts;
    const finished = this.finishedThisSession;
    const elapsed = this.started == null ? 0 : this.now() - this.started;
    const left = Math.max(0, this.toRun - finished);
    const eta = finished > 0 ? (elapsed / finished) * left : NaN;
    const spentNow = this.spent - this.spentAtStart;
    const projected = finished > 0 ? this.spent + (spentNow / finished) * left : NaN;
    return {
      experiment: this.experiment,
      outputDir: this.outputDir,
      resumed: this.resumed,
      total: this.total,
      toRun: this.toRun,
      completed,
      failed,
      halted,
      running,
      pending: Math.max(0, this.total - completed - failed - halted - running),
      finishedThisSession: finished,
      spent: this.spent,
      budget: this.budget,
      projected,
      elapsedMs: elapsed,
      etaMs: this.outcome ? 0 : eta,
      rateLimited: this.rateLimited,
      rateLimit: this.rateLimit,
      inFlight: [...this.inFlight],
      runs: runs ? [...this.runs].map(([id, r]) => ({ id, ...r })).sort((a, b) => order(a.id) - order(b.id) || (a.id < b.id ? -1 : 1)) : [],
      notes: [...this.notes],
      analysis: this.analysis,
      outcome: this.outcome,
      job: this.job,
      saved: { ...this.saved, batch: Math.max(this.saved.batch, this.job?.saved ?? 0) },
    };
  }
}
