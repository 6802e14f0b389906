// www/dashboard.js owns the live view of a batch: it draws a `BatchProgress` snapshot (the
// package's event fold) as figures (runs done, failed, halted, in flight; spend against the
// budget; projected spend; elapsed; ETA; rate-limit slowdowns; with `execution: batch`, the
// provider job seen last and the time spent waiting on providers; what batch prices and prompt
// caches saved), a grid of every run coloured by status, and a log of notes and runs that did
// not complete. Drawing is coalesced to one frame. Each figure carries its exact value in
// `data-value`, which the browser tests compare with the files the batch wrote. It also words a
// finished batch's savings (`savingsText`) for the Run and Results views.

import { fill, h, usd, duration } from './dom.js';

/**
 * The saving line of a finished batch (its outcome's or batch-summary.json's `savings`), as the
 * CLI's summary words it; null when nothing was batched or cached.
 * @param {{ prompt_tokens?: number, cached_tokens?: number, cache_saved?: number, batch_calls?: number, batch_saved?: number } | null | undefined} sv
 */
export function savingsText(sv) {
  if (!sv || !(sv.batch_calls || sv.cached_tokens)) return null;
  const batch = sv.batch_saved ?? 0;
  const cache = sv.cache_saved ?? 0;
  const rate = Math.round((100 * (sv.cached_tokens ?? 0)) / Math.max(1, sv.prompt_tokens ?? 0));
  return `Saved ${usd(batch + cache)} against realtime prices: ${usd(batch)} by batch jobs (${sv.batch_calls ?? 0} calls), ` +
    `${usd(cache)} by prompt caches (${rate}% of prompt tokens cached)`;
}

export class Dashboard {
  constructor(el) {
    this.el = el;
    this.snapshot = null;
    this.frame = 0;
    this.log = [];
  }

  /** Draws `snapshot` at the next frame (the latest one wins). */
  update(snapshot) {
    this.snapshot = snapshot;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  note(text, bad = false) {
    this.log.push({ text, bad });
    if (this.snapshot) this.update(this.snapshot);
  }

  clearLog() {
    this.log = [];
  }

  draw() {
    const s = this.snapshot;
    if (!s) return;
    const finished = s.completed + s.failed + s.halted;
    const fig = (key, label, value, exact, extra, title) => h('div', { class: 'figure', title, dataset: { fig: key, value: String(exact ?? value) } },
      h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), extra);
    const note = (text) => h('div', { class: 'note' }, text);
    const meter = (fraction, cls = '') => h('div', { class: `meter ${cls}` }, h('div', { dataset: { w: String(fraction) } }));
    const budget = s.budget;
    const money = budget != null ? `${usd(s.spent)} of ${usd(budget)}` : usd(s.spent);
    if (!this.figures) {
      this.figures = h('div', { class: 'figures' });
      this.grid = h('div', { class: 'grid', id: 'run-grid', role: 'list' });
      this.cells = new Map();
      this.logList = h('ul', { class: 'log', id: 'run-log' });
      fill(this.el,
        this.figures,
        h('div', { class: 'legend' },
          ['pending', 'running', 'completed', 'failed', 'halted'].map((st) => h('span', null, h('span', { class: `cell ${st}` }), st))),
        this.grid,
        this.logList);
    }
    fill(this.figures,
      fig('completed', 'Completed', `${s.completed} / ${s.total}`, s.completed, meter(s.total ? s.completed / s.total : 0)),
      fig('failed', 'Failed', String(s.failed), s.failed),
      fig('halted', 'Halted', String(s.halted), s.halted),
      fig('running', 'In flight', String(s.running), s.running),
      fig('spent', 'Spent', money, s.spent, budget != null ? meter(Math.min(1, s.spent / budget), `money${s.spent > budget ? ' over' : ''}`) : null),
      fig('projected', 'Projected', Number.isFinite(s.projected) ? usd(s.projected) : '–', s.projected),
      fig('elapsed', 'Elapsed', duration(s.elapsedMs), Math.round(s.elapsedMs)),
      fig('eta', 'ETA', s.outcome ? (s.outcome.stop_reason ? 'stopped' : 'done') : duration(s.etaMs), Math.round(s.etaMs)),
      fig('rate-limits', 'Rate limits', s.rateLimited ? `${s.rateLimited}× 429 (limit now ${s.rateLimit})` : 'none', s.rateLimited),
      jobFigures(s, fig, note));
    // Widths are set through the CSSOM rather than style attributes in markup.
    for (const bar of this.figures.querySelectorAll('.meter > div')) bar.style.width = `${Math.round(Number(bar.dataset.w) * 100)}%`;

    // The grid is updated cell by cell: a batch of thousands of runs redraws only what changed.
    const ids = s.runs.map((r) => r.id);
    if (ids.length !== this.cells.size || ids.some((id) => !this.cells.has(id))) {
      this.cells = new Map(ids.map((id) => [id, h('div', { role: 'listitem', dataset: { run: id } })]));
      fill(this.grid, [...this.cells.values()]);
    }
    for (const r of s.runs) {
      const cell = this.cells.get(r.id);
      const cls = `cell ${r.status}`;
      if (cell.className !== cls) {
        cell.className = cls;
        cell.dataset.status = r.status;
      }
      cell.title = `${r.id}: ${r.status}${r.halt_reason ? ` (${r.halt_reason})` : ''}${r.cost != null && r.status !== 'pending' && r.status !== 'running' ? ` ${usd(r.cost)}` : ''}${r.error ? `: ${r.error}` : ''}`;
    }
    this.grid.setAttribute('aria-label', `${finished} of ${s.total} runs finished`);
    fill(this.logList, [...s.notes.map((n) => ({ text: n })), ...this.log].map((l) => h('li', { class: l.bad ? 'bad' : '' }, l.text)));
  }
}

/**
 * `execution: batch`: the provider job seen last (its phase, status, requests answered of its
 * total, how long it and this session have waited on providers) and what batch prices and
 * prompt caches saved (with the cache hit rate when anything was cached). Nothing before a job
 * or a saving is known.
 */
function jobFigures(s, fig, note) {
  const out = [];
  const j = s.job;
  if (j) {
    const done = j.succeeded + j.failed;
    out.push(fig('job', `Batch job · ${j.phase}`, `${j.status} ${done} / ${j.total}`, `${done}/${j.total}`,
      [note(`${j.failed ? `${j.failed} failed · ` : ''}waited ${duration(j.waited_s * 1000)}`),
        note(`${duration(j.total_waited_s * 1000)} on providers (${j.jobs_submitted} job${j.jobs_submitted === 1 ? '' : 's'})`)],
      `${j.model}: job ${j.job}`));
  }
  const saved = s.saved ?? { cache: 0, batch: 0, cachedTokens: 0, promptTokens: 0 };
  const total = saved.batch + saved.cache;
  if (j || total !== 0 || saved.cachedTokens > 0) {
    const parts = [];
    if (saved.batch) parts.push(`${usd(saved.batch)} by batch prices`);
    if (saved.cache) parts.push(`${usd(saved.cache)} by caches`);
    const hit = saved.cachedTokens > 0 ? `cache hit rate ${Math.round((100 * saved.cachedTokens) / Math.max(1, saved.promptTokens))}%` : null;
    out.push(fig('saved', 'Saved', usd(total), total, [parts.length ? note(parts.join(' · ')) : null, hit ? note(hit) : null]));
  }
  return out;
}
