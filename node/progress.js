// node/progress.js owns what a person sees on a terminal while a batch runs: a status line
// redrawn in place (runs done / failed / halted / in flight / to do, spend against the budget,
// projected spend, elapsed and ETA, the run ids in flight, rate-limit slowdowns), one plain
// line per run start and end elsewhere, and the summary at the end. The figures come from the
// package's one fold of the core's events, `BatchProgress` (lib/batch-progress.js), which the
// web page's dashboard draws too; this file only draws them.

import { BatchProgress } from '../lib/batch-progress.js';

const fmtUsd = (x) => `$${x < 0.01 && x > 0 ? x.toFixed(4) : x.toFixed(2)}`;

function fmtTime(seconds) {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The status line of a `BatchProgress` snapshot. */
export function statusLine(s) {
  const money = s.budget != null ? `${fmtUsd(s.spent)} of ${fmtUsd(s.budget)}` : fmtUsd(s.spent);
  const ids = s.inFlight.slice(0, 3).join(' ') + (s.inFlight.length > 3 ? ' …' : '');
  const slow = s.rateLimited > 0 ? ` · rate-limited ${s.rateLimited}x (limit ${s.rateLimit})` : '';
  const job = s.job ? ` · ${s.job.phase}: job ${s.job.status} ${s.job.succeeded + s.job.failed}/${s.job.total}` +
    ` (${fmtTime(s.job.waited_s)}; ${fmtTime(s.job.total_waited_s)} on providers)` : '';
  const saved = s.saved.batch + s.saved.cache > 0 ? ` · saved ${fmtUsd(s.saved.batch + s.saved.cache)}` : '';
  return `${s.completed}/${s.toRun} done · ${s.failed} failed · ${s.halted} halted · ${s.running} in flight · ${money}` +
    `${Number.isFinite(s.projected) ? ` (projected ${fmtUsd(s.projected)})` : ''}${saved} · ${fmtTime(s.elapsedMs / 1000)} elapsed` +
    `${Number.isFinite(s.etaMs) ? ` · ETA ${fmtTime(s.etaMs / 1000)}` : ''}${job}${slow}${ids ? ` · ${ids}` : ''}`;
}

/** Folds a batch's events and shows them on `stream`. */
export class Progress {
  /** @param {{ live: boolean, now?: () => number }} options `live`: redraw a status line in place */
  constructor(stream, { live, now }) {
    this.stream = stream;
    this.live = live;
    this.fold = new BatchProgress({ now });
    this.timer = null;
  }

  /** The analysis the batch wrote when it ended (`aggregate_metrics`), when it did. */
  get analysis() {
    return this.fold.analysis ?? undefined;
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
    return statusLine(this.fold.snapshot({ runs: false }));
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

  /** No more status line from now on (a person is being asked on the same terminal). */
  quiet() {
    this.stop();
    this.live = false;
  }

  /** Takes one core event: folds it, prints its line when it has one, redraws. */
  event(e) {
    this.fold.event(e);
    const d = e.data ?? {};
    switch (e.type) {
      case 'batch_started':
        this.line(`${d.resumed ? 'Resuming' : 'Running'} ${d.experiment_name}: ${d.to_run} of ${d.total_runs} runs to do` +
          `${d.already_completed ? ` (${d.already_completed} already completed)` : ''}, at most ${d.max_parallel} at once` +
          `${d.budget_limit != null ? `, budget ${fmtUsd(d.budget_limit)}` : ''}; outputs in ${d.output_dir}`);
        if (d.retrying_failed?.length) this.line(`Retrying ${d.retrying_failed.length} failed run(s) once more: ${d.retrying_failed.join(', ')}`);
        break;
      case 'run_started':
        if (!this.live) this.line(`▶ ${d.run_id} ${d.description}${d.shares_prefix_of ? ` (branches from ${d.shares_prefix_of})` : ''}`);
        break;
      case 'run_finished': {
        const why = d.status === 'completed' ? '' : ` (${d.halt_reason ?? ''}${d.error ? `: ${d.error}` : ''})`;
        if (!this.live || d.status !== 'completed') this.line(`${d.status === 'completed' ? '✓' : '✗'} ${d.run_id} ${d.status}${why} ${fmtUsd(d.cost)}`);
        break;
      }
      case 'job':
        // Off a terminal, one line when a job is submitted and one when it ends.
        if (!this.live && ['submitted', 'completed', 'ended', 'expired', 'cancelled', 'failed'].includes(d.status)) {
          this.line(`⧗ ${d.phase}: ${d.model} job ${d.job} ${d.status} (${d.succeeded}/${d.total} answered, ${d.failed} failed, ${fmtTime(d.waited_s)})`);
        }
        break;
      case 'note':
        this.line(d.message);
        break;
      case 'stopped':
        this.line(`■ ${d.message}`);
        break;
      default:
        break;
    }
    this.draw();
  }
}
/** The closing summary, and what to do next. */
export function summary(o, { configPath, started, budget, analysis, shard = null, resume = `npx scenario-lab run ${configPath} --resume` }) {
  const secs = (Date.now() - started) / 1000;
  const finished = o.runs_completed + o.runs_failed + o.runs_halted;
  // A shard is measured against its own runs and its share of the budget.
  const runs = shard ? shard.runs : o.total_runs;
  if (shard) budget = shard.budget;
  const lines = [
    '',
    `Completed ${o.runs_completed} of ${shard ? `shard ${shard.label}'s ${runs} runs (the batch has ${o.total_runs})` : `${o.total_runs} runs`} · ${o.runs_failed} failed · ${o.runs_halted} halted · ` +
      `${shard ? runs - finished : o.runs_pending} not run` +
      `${o.runs_not_needed ? ` · ${o.runs_not_needed} not needed (stopping rule)` : ''}`,
    `Spent ${fmtUsd(o.total_spent)}${budget != null ? ` of ${fmtUsd(budget)}` : ''} · ${fmtTime(secs)} this session` +
      `${o.runs_completed ? ` · ${fmtUsd(o.total_spent / Math.max(1, finished))} per run` : ''}`,
    `Outputs: ${o.output_dir} (batch-summary.json, batch-costs.json, runs/)`,
  ];
  for (const stop of o.stopped ?? []) lines.push(`Stopped early: ${stop.message}`);
  const sv = o.savings;
  if (sv && (sv.batch_calls || sv.cached_tokens)) {
    lines.push(`Saved ${fmtUsd(sv.batch_saved + sv.cache_saved)} against realtime prices: ${fmtUsd(sv.batch_saved)} by batch jobs (${sv.batch_calls} calls), ` +
      `${fmtUsd(sv.cache_saved)} by prompt caches (${Math.round((100 * sv.cached_tokens) / Math.max(1, sv.prompt_tokens))}% of prompt tokens cached)`);
  }
  if (sv?.shared_calls) {
    lines.push(`Shared turns: ${sv.shared_calls} calls were replayed from the runs the intervention's arms branch from, not sent again, saving ${fmtUsd(sv.shared_saved)}`);
  }
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
      `${runs - o.runs_completed} runs are left. To go on, raise budget_limit in ${configPath} and run:`,
      `  ${resume}`,
      `or give a higher limit for this session: ${resume.replace(/ --budget-limit \S+/, '')} --budget-limit <USD>`);
  } else if (o.stop_reason === 'interrupted') {
    lines.push(`Stopped on request. Continue with: ${resume}`);
  } else if (o.runs_completed + (o.runs_not_needed ?? 0) < runs) {
    lines.push(`Some runs did not complete. --resume continues halted runs and retries failed ones once: ${resume}`);
  }
  return lines.join('\n');
}
