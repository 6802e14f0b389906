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
    const meter = (fraction, cls = '') => h('div', { class: `meter ${cls}` }, h('div', { style: null, dataset: { w: String(fraction) } }));
    const budget = s.budget;
    const money = budget != null ? `${usd(s.spent)} of ${usd(budget)}` : usd(s.spent);
    const nodes = [
      h('div', { class: 'figures' },
        fig('completed', 'Completed', `${s.completed} / ${s.total}`, s.completed, meter(s.total ? s.completed / s.total : 0)),
        fig('failed', 'Failed', String(s.failed), s.failed),
        fig('halted', 'Halted', String(s.halted), s.halted),
        fig('running', 'In flight', String(s.running), s.running),
        fig('spent', 'Spent', money, s.spent, budget != null ? meter(Math.min(1, s.spent / budget), `money${s.spent > budget ? ' over' : ''}`) : null),
        fig('projected', 'Projected', Number.isFinite(s.projected) ? usd(s.projected) : '–', s.projected),
        fig('elapsed', 'Elapsed', duration(s.elapsedMs), Math.round(s.elapsedMs)),
        fig('eta', 'ETA', s.outcome ? 'done' : duration(s.etaMs), Math.round(s.etaMs)),
        fig('rate-limits', 'Rate limits', s.rateLimited ? `${s.rateLimited}× (limit ${s.rateLimit})` : 'none', s.rateLimited)),
      h('div', { class: 'legend' },
        ['pending', 'running', 'completed', 'failed', 'halted'].map((st) => h('span', null, h('span', { class: `cell ${st}` }), st))),
      h('div', { class: 'grid', id: 'run-grid', role: 'list', 'aria-label': `${finished} of ${s.total} runs finished` },
        s.runs.map((r) => h('div', {
          class: `cell ${r.status}`,
          role: 'listitem',
          title: `${r.id}: ${r.status}${r.halt_reason ? ` (${r.halt_reason})` : ''}${r.cost != null && r.status !== 'pending' && r.status !== 'running' ? ` ${usd(r.cost)}` : ''}${r.error ? `: ${r.error}` : ''}`,
          dataset: { run: r.id, status: r.status },
        }))),
      h('ul', { class: 'log', id: 'run-log' }, [...s.notes.map((n) => ({ text: n })), ...this.log].map((l) => h('li', { class: l.bad ? 'bad' : '' }, l.text))),
    ];
    fill(this.el, nodes);
    // Widths are set through the CSSOM (the page's CSP allows no style attributes in markup).
    for (const bar of this.el.querySelectorAll('.meter > div')) bar.style.width = `${Math.round(Number(bar.dataset.w) * 100)}%`;
  }
}
