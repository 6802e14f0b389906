// www/dashboard.js owns the live view of a batch: it draws a `BatchProgress` snapshot (the
// package's event fold) as figures (runs done, failed, halted, in flight; spend against the
// budget; projected spend; elapsed; ETA; rate-limit slowdowns), a grid of every run coloured by
// status, and a log of notes and runs that did not complete. Drawing is coalesced to one frame.
// Each figure carries its exact value in `data-value`, which the browser tests compare with the
// files the batch wrote.

import { fill, h, usd, duration } from './dom.js';

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
    const fig = (key, label, value, exact, extra) => h('div', { class: 'figure', dataset: { fig: key, value: String(exact ?? value) } },
      h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), extra);
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
      fig('rate-limits', 'Rate limits', s.rateLimited ? `${s.rateLimited}× 429 (limit now ${s.rateLimit})` : 'none', s.rateLimited));
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
