// node/progress.js owns what a person sees while a batch runs: a status line redrawn in place
// on a terminal (runs done / failed / in flight / total, spend against the budget, projected
// spend, elapsed and ETA, the run ids in flight, rate-limit slowdowns), one plain line per run
// start and end elsewhere, and the summary at the end. It only reads the core's events.

const fmtUsd = (x) => `$${x < 0.01 && x > 0 ? x.toFixed(4) : x.toFixed(2)}`;

function fmtTime(seconds) {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Tracks a batch from its events and shows it on `stream`. */
export class Progress {
  constructor(stream, { live }) {
    this.stream = stream;
    this.live = live;
    this.started = Date.now();
    this.inFlight = new Set();
    this.done = 0;
    this.failed = 0;
    this.halted = 0;
    this.total = 0;
    this.toRun = 0;
    this.spent = 0;
    this.spentAtStart = 0;
    this.budget = null;
    this.rateLimited = 0;
    this.limit = null;
    this.timer = null;
  }

  line(text) {
    this.clear();
    this.stream.write(`${text}\n`);
    this.draw();
  }

  clear() {
    if (this.live) this.stream.write('\r\x1b[2K');
  }

  status() {
    const finished = this.done + this.failed + this.halted;
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = finished > 0 ? (elapsed / finished) * (this.toRun - finished) : NaN;
    const spentNow = this.spent - this.spentAtStart;
    const projected = finished > 0 ? this.spent + (spentNow / finished) * (this.toRun - finished) : NaN;
    const money = this.budget != null ? `${fmtUsd(this.spent)} of ${fmtUsd(this.budget)}` : fmtUsd(this.spent);
    const ids = [...this.inFlight].slice(0, 3).join(' ') + (this.inFlight.size > 3 ? ' …' : '');
    const slow = this.rateLimited > 0 ? ` · rate-limited ${this.rateLimited}x (limit ${this.limit})` : '';
    return `${this.done}/${this.toRun} done · ${this.failed} failed · ${this.halted} halted · ${this.inFlight.size} in flight · ${money}` +
      `${Number.isFinite(projected) ? ` (projected ${fmtUsd(projected)})` : ''} · ${fmtTime(elapsed)} elapsed` +
      `${Number.isFinite(eta) ? ` · ETA ${fmtTime(eta)}` : ''}${slow}${ids ? ` · ${ids}` : ''}`;
  }

  draw() {
    if (!this.live) return;
    const cols = this.stream.columns || 100;
    const text = this.status();
    this.stream.write(`\r\x1b[2K${text.length > cols - 1 ? `${text.slice(0, cols - 2)}…` : text}`);
  }

  start() {
    if (this.live) this.timer = setInterval(() => this.draw(), 250);
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }

  /** Takes one core event. */
  event(e) {
    const d = e.data ?? {};
    switch (e.type) {
      case 'batch_started':
        this.total = d.total_runs;
        this.toRun = d.to_run;
        this.budget = d.budget_limit ?? null;
        this.spent = this.spentAtStart = d.spent ?? 0;
        this.line(`${d.resumed ? 'Resuming' : 'Running'} ${d.experiment_name}: ${d.to_run} of ${d.total_runs} runs to do` +
          `${d.already_completed ? ` (${d.already_completed} already completed)` : ''}, at most ${d.max_parallel} at once` +
          `${d.budget_limit != null ? `, budget ${fmtUsd(d.budget_limit)}` : ''}; outputs in ${d.output_dir}`);
        if (d.retrying_failed?.length) this.line(`Retrying ${d.retrying_failed.length} failed run(s) once more: ${d.retrying_failed.join(', ')}`);
        break;
      case 'run_started':
        this.inFlight.add(d.run_id);
        if (!this.live) this.line(`▶ ${d.run_id} ${d.description}`);
        break;
      case 'run_finished': {
        this.inFlight.delete(d.run_id);
        this.spent = d.spent ?? this.spent;
        if (d.status === 'completed') this.done++;
        else if (d.status === 'failed') this.failed++;
        else this.halted++;
        for (const r of d.rate_limits ?? []) {
          this.rateLimited = Math.max(this.rateLimited, r.rate_limited);
          this.limit = r.limit;
        }
        const why = d.status === 'completed' ? '' : ` (${d.halt_reason ?? ''}${d.error ? `: ${d.error}` : ''})`;
        if (!this.live || d.status !== 'completed') this.line(`${d.status === 'completed' ? '✓' : '✗'} ${d.run_id} ${d.status}${why} ${fmtUsd(d.cost)}`);
        break;
      }
      case 'note':
        this.line(d.message);
        break;
      case 'analysis':
        this.analysis = d;
        break;
      default:
        break;
    }
    this.draw();
  }
}

/** The closing summary, and what to do next. */
export function summary(o, { configPath, started, budget, analysis }) {
  const secs = (Date.now() - started) / 1000;
  const finished = o.runs_completed + o.runs_failed + o.runs_halted;
  const lines = [
    '',
    `Completed ${o.runs_completed} of ${o.total_runs} runs · ${o.runs_failed} failed · ${o.runs_halted} halted · ${o.runs_pending} not run`,
    `Spent ${fmtUsd(o.total_spent)}${budget != null ? ` of ${fmtUsd(budget)}` : ''} · ${fmtTime(secs)} this session` +
      `${o.runs_completed ? ` · ${fmtUsd(o.total_spent / Math.max(1, finished))} per run` : ''}`,
    `Outputs: ${o.output_dir} (batch-summary.json, batch-costs.json, runs/)`,
  ];
  const r = o.replies;
  if (r?.truncated) lines.push(`${r.truncated} ${r.truncated === 1 ? 'reply was' : 'replies were'} cut at the output cap (finish_reason: length): see the runs' llm-calls.jsonl; raise max_tokens for the role if the cut text matters`);
  if (r?.over_cap) lines.push(`${r.over_cap} ${r.over_cap === 1 ? 'reply was' : 'replies were'} longer than the output cap sent: the provider ignored max_tokens`);
  if (r?.possibly_billed_retries) lines.push(`${r.possibly_billed_retries} ${r.possibly_billed_retries === 1 ? 'request was' : 'requests were'} abandoned at the per-call time limit and sent again; a paid provider may have billed ${r.possibly_billed_retries === 1 ? 'it' : 'them'} (raise call_timeout if the model is slow)`);
  if (analysis) {
    lines.push(`Analysis: ${analysis.dir}/ (analysis-report.md, report.html, runs.csv; ` +
      `${analysis.problems ? `${analysis.problems} data problem(s) listed in the report` : 'no data problems'})`);
  }
  if (o.stop_reason === 'budget') {
    lines.push(`Stopped at the budget: ${o.stop_message}.`,
      `${o.total_runs - o.runs_completed} runs are left. To go on, raise budget_limit in ${configPath} and run:`,
      `  npx scenario-lab run ${configPath} --resume`,
      `or give a higher limit for this session: npx scenario-lab run ${configPath} --resume --budget-limit <USD>`);
  } else if (o.stop_reason === 'interrupted') {
    lines.push(`Stopped on request. Continue with: npx scenario-lab run ${configPath} --resume`);
  } else if (o.runs_completed < o.total_runs) {
    lines.push(`Some runs did not complete. --resume continues halted runs and retries failed ones once: npx scenario-lab run ${configPath} --resume`);
  }
  return lines.join('\n');
}
