// www/plan-view.js owns the dry-run view: the core's plan of the batch as typed (variations,
// runs, cost range, time estimate, budget verdict), as a few figures and the core's own text
// (`renderPlan`, the same as `scenario-lab run --dry-run`). It computes nothing itself.

import { $, fill, h, usd, duration } from './dom.js';

const range = (r) => (r ? `${usd(r.low)} – ${usd(r.high)}` : 'unknown');

export function init(app) {
  $('#plan-to-run').addEventListener('click', () => app.show('run'));
}

/** Plans the current config and shows it; resolves to the plan, or null when it cannot. */
export async function show(app) {
  const figures = $('#plan-figures');
  const text = $('#plan-text');
  const check = app.check ?? (await app.validateNow());
  if (!check?.report.ok) {
    fill(figures, h('p', { class: 'muted' }, 'The config has errors: fix them in the Experiment view first.'));
    text.textContent = '';
    $('#plan-to-run').disabled = true;
    return null;
  }
  let result;
  try {
    result = await app.engine.call('plan', [app.project, app.path, app.text]);
  } catch (e) {
    fill(figures, h('p', { class: 'muted' }, `No plan: ${e.message}`));
    text.textContent = (e.diagnostics ?? []).map((d) => d.text).join('\n\n');
    return null;
  }
  const p = result.plan;
  app.plan = p;
  const fig = (label, value, note, cls) => h('div', { class: `figure ${cls ?? ''}`, dataset: { fig: label.toLowerCase().replaceAll(' ', '-') } },
    h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), note ? h('div', { class: 'note' }, note) : null);
  fill(figures,
    fig('Runs', String(p.total_runs), `${p.variation_count} variation(s) × ${p.runs_per_variation}`),
    fig('At once', String(p.max_parallel)),
    fig('Cost', p.cost_total ? usd(p.cost_total.expected) : 'unknown', `range ${range(p.cost_total)}`),
    fig('Time', duration(p.seconds_total * 1000), `${duration(p.seconds_per_run * 1000)} a run`),
    fig('Budget', p.budget_limit != null ? usd(p.budget_limit) : 'none', p.budget.message, p.budget.status));
  text.textContent = result.text;
  $('#plan-to-run').disabled = false;
  return p;
}
