// batch-progress.js owns what a live view of a batch knows: it folds the core's batch events
// (`runBatch`'s `onEvent`) into figures a dashboard shows: runs done, failed, halted, in
// flight and pending, each run's status, spend against the budget, the projected spend, elapsed
// time and ETA, and rate-limit slowdowns. It draws nothing and decides nothing about the batch;
// the web page's dashboard and embedding pages render its `snapshot()`.
//
//   const progress = new BatchProgress({ totalRuns: plan.total_runs, runsPerVariation: plan.runs_per_variation });
//   await runBatch(path, storage, connection, { onEvent: (e) => { progress.event(e); draw(progress.snapshot()); } });
//
// The projection and ETA follow the CLI's progress line: this session's spend and time per
// finished run, times the runs left.

/** The id of the run at 0-based index `i` (variation-major), as the core names run folders. */
export function runId(i, runsPerVariation) {
  const per = Math.max(1, runsPerVariation);
  const pad = (n) => String(n).padStart(3, '0');
  return `var-${pad(Math.floor(i / per) + 1)}-run-${pad((i % per) + 1)}`;
}

/** A sortable number for a run id (`var-002-run-010` -> 2_000_010); ids of another shape last. */
function order(id) {
  const m = /^var-(\d+)-run-(\d+)$/.exec(id);
  return m ? Number(m[1]) * 1e6 + Number(m[2]) : Number.MAX_SAFE_INTEGER;
}

/** Folds batch events into the figures of a live view. */
export class BatchProgress {
  /**
   * @param {{ totalRuns?: number, runsPerVariation?: number, now?: () => number }} [options]
   *   with both counts, every run of the batch is known (as `pending`) before it starts
   */
  constructor(options = {}) {
    this.now = options.now ?? (() => Date.now());
    this.runsPerVariation = options.runsPerVariation ?? null;
    this.runs = new Map(); // run id -> { status, cost, halt_reason, error }
    this.total = options.totalRuns ?? 0;
    this.toRun = 0;
    this.spent = 0;
    this.spentAtStart = 0;
    this.budget = null;
    this.started = null;
    this.finishedThisSession = 0;
    this.rateLimited = 0;
    this.rateLimit = null;
    this.experiment = null;
    this.outputDir = null;
    this.resumed = false;
    this.notes = [];
    this.outcome = null;
    this.fillPending();
  }

  fillPending() {
    if (!this.runsPerVariation || !this.total) return;
    for (let i = 0; i < this.total; i++) {
      const id = runId(i, this.runsPerVariation);
      if (!this.runs.has(id)) this.runs.set(id, { status: 'pending' });
    }
  }

  /**
   * Marks runs already on disk (before a resume), e.g. `[{ run_id, status, cost }]`; until the
   * batch starts, the spend is their total.
   * @param {Array<{ run_id: string, status: string, cost?: number }>} runs
   */
  seed(runs) {
    for (const r of runs) this.runs.set(r.run_id, { status: r.status, cost: r.cost ?? 0 });
    // Until the batch starts (its first event carries the exact spend), the spend is what the
    // finished runs on disk cost.
    if (this.started == null) {
      this.spent = this.spentAtStart = [...this.runs.values()].reduce((a, r) => a + (r.status === 'pending' ? 0 : r.cost ?? 0), 0);
    }
    return this;
  }

  /** Takes one event `{ type, data }`; returns this. Unknown types are ignored. */
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
        this.runs.set(d.run_id, { ...this.runs.get(d.run_id), status: 'running' });
        break;
      case 'run_finished':
        this.runs.set(d.run_id, { status: d.status, cost: d.cost ?? 0, halt_reason: d.halt_reason ?? null, error: d.error ?? null });
        this.spent = d.spent ?? this.spent;
        this.finishedThisSession++;
        for (const r of d.rate_limits ?? []) {
          if (r.rate_limited >= this.rateLimited) {
            this.rateLimited = r.rate_limited;
            this.rateLimit = r.limit;
          }
        }
        break;
      case 'note':
        if (d.message) this.notes.push(d.message);
        break;
      case 'analysis':
        // aggregate_metrics: the batch analysed its results when it ended.
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

  /** The figures now. Money in USD, times in milliseconds (NaN when not known yet). */
  snapshot() {
    const count = (s) => [...this.runs.values()].filter((r) => r.status === s).length;
    const completed = count('completed');
    const failed = count('failed');
    const halted = count('halted');
    const running = count('running');
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
      spent: this.spent,
      budget: this.budget,
      projected,
      elapsedMs: elapsed,
      etaMs: this.outcome ? 0 : eta,
      rateLimited: this.rateLimited,
      rateLimit: this.rateLimit,
      runs: [...this.runs].map(([id, r]) => ({ id, ...r })).sort((a, b) => order(a.id) - order(b.id) || (a.id < b.id ? -1 : 1)),
      notes: [...this.notes],
      outcome: this.outcome,
    };
  }
}
