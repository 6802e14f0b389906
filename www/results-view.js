// www/results-view.js owns browsing an output tree: the batch's summary (with what prompt
// caches and batch prices saved, from batch-summary.json), every run with its status, turns and
// cost, and one run's files (world states, decisions, communications, checks) rendered by
// www/markdown.js, with its costs by role, actor and model and its final metrics. It browses
// either the current experiment's outputs (in the browser's storage) or an uploaded result tree
// (in memory), zips the tree for download in the CLI's layout, and takes uploads.

import { $, download, fill, h, usd } from './dom.js';
import { savingsText } from './dashboard.js';
import { folderName, readFileList } from './files.js';
import { renderMarkdown } from './markdown.js';

export function init(app) {
  const view = { source: null, runs: [], selected: null, seq: 0 };
  app.results = view;

  $('#results-source').addEventListener('change', (e) => {
    view.source = JSON.parse(e.target.value);
    show(app);
  });
  $('#download-zip').addEventListener('click', async () => {
    if (!view.source) return;
    const { ws, dir } = view.source;
    const bytes = await app.engine.call('exportZip', [ws, dir]);
    download(bytes, `${dir.split('/').filter(Boolean).at(-1) || 'results'}.zip`, 'application/zip');
  });
  $('#upload-folder').addEventListener('click', () => $('#upload-folder-input').click());
  $('#upload-folder-input').addEventListener('change', async (e) => {
    const list = e.target.files;
    if (list?.length) await app.uploadResults(folderName(list), { files: await readFileList(list) });
    e.target.value = '';
  });
  $('#upload-zip').addEventListener('click', () => $('#upload-zip-input').click());
  $('#upload-zip-input').addEventListener('change', async (e) => {
    const file = e.target.files?.[0];
    if (file) await app.uploadResults(file.name, { zip: await file.arrayBuffer() });
    e.target.value = '';
  });
}

/** The sources in the chooser: this experiment's outputs, and the last upload. */
function sources(app) {
  const out = [];
  const dir = app.check?.config?.output_dir;
  if (dir) out.push({ ws: app.project, dir, label: `This experiment: ${dir}` });
  if (app.upload) out.push({ ws: 'upload', dir: app.upload.root, label: `Uploaded: ${app.upload.name}` });
  return out;
}

export async function show(app, prefer) {
  const view = app.results;
  const mine = ++view.seq; // the latest call draws; an older one still reading gives way
  const list = sources(app);
  if (prefer) view.source = list.find((s) => s.ws === prefer.ws && s.dir === prefer.dir) ?? view.source;
  if (!view.source || !list.some((s) => s.ws === view.source.ws && s.dir === view.source.dir)) view.source = list[0] ?? null;
  fill($('#results-source'), list.map((s) => h('option', { value: JSON.stringify({ ws: s.ws, dir: s.dir }), selected: s.ws === view.source?.ws && s.dir === view.source?.dir }, s.label)));
  $('#download-zip').disabled = !view.source;
  if (!view.source) {
    fill($('#results-summary'));
    fill($('#runs-list'), h('p', { class: 'muted' }, 'No results yet: run a batch, or upload a result tree.'));
    fill($('#run-detail'));
    return;
  }
  const { ws, dir } = view.source;
  const [status, summaryText] = await Promise.all([
    app.engine.call('batchStatus', [ws, dir]),
    app.engine.call('read', [ws, `${dir}/batch-summary.json`]).catch(() => null),
  ]);
  if (mine !== view.seq) return;
  const { runs } = status;
  view.runs = runs;
  drawSummary(status, runs, savingsOf(summaryText));
  drawRuns(app, runs);
  if (runs.length && !runs.some((r) => r.run_id === view.selected)) view.selected = null;
  if (view.selected) await openRun(app, view.selected);
  else fill($('#run-detail'), h('p', { class: 'muted' }, runs.length ? 'Choose a run.' : 'This batch has no run folders yet.'));
}

/** What caches and batch prices saved, from batch-summary.json's `cost_summary` (null when not there). */
function savingsOf(text) {
  try {
    return JSON.parse(text ?? 'null')?.cost_summary?.savings ?? null;
  } catch {
    return null;
  }
}

/**
 * The figures of a batch: `status` is the core's `batchStatus` (its summary's headline, its
 * runs); `savings` batch-summary.json's, worded as the CLI's summary words them.
 */
function drawSummary(status, runs, savings) {
  const count = (st) => runs.filter((r) => r.status === st).length;
  const fig = (key, label, value, exact) => h('div', { class: 'figure', dataset: { fig: key, value: String(exact ?? value) } },
    h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
  const spent = status.total_spent ?? runs.reduce((a, r) => a + (r.cost ?? 0), 0);
  fill($('#results-summary'),
    status.experiment_name ? fig('experiment', 'Experiment', status.experiment_name) : null,
    fig('runs', 'Run folders', String(runs.length), runs.length),
    fig('completed', 'Completed', String(count('completed')), count('completed')),
    fig('failed', 'Failed', String(count('failed')), count('failed')),
    fig('halted', 'Halted', String(count('halted')), count('halted')),
    fig('spent', 'Spent', usd(spent), spent),
    status.stop_reason ? fig('stop', 'Stopped', status.stop_reason) : null,
    savingsText(savings) ? h('p', { class: 'savings', id: 'results-savings' }, `${savingsText(savings)}.`) : null);
}

function drawRuns(app, runs) {
  const view = app.results;
  fill($('#runs-list'),
    h('table', { class: 'data runs-table', id: 'runs-table' },
      h('thead', null, h('tr', null, h('th', null, 'Run'), h('th', null, 'Status'), h('th', { class: 'num' }, 'Turns'), h('th', { class: 'num' }, 'Cost'))),
      h('tbody', null, runs.map((r) => h('tr', {
        class: r.run_id === view.selected ? 'selected' : '',
        dataset: { run: r.run_id },
        tabindex: '0',
        onclick: () => openRun(app, r.run_id),
        onkeydown: (e) => { if (e.key === 'Enter') openRun(app, r.run_id); },
      },
      h('td', null, h('code', null, r.run_id)),
      h('td', null, h('span', { class: `status ${r.status}` }, r.status), r.halt_reason ? h('span', { class: 'muted small' }, ` ${r.halt_reason}`) : null),
      h('td', { class: 'num' }, r.turns ?? '–'),
      h('td', { class: 'num' }, usd(r.cost)))))));
}

/** Sort key of a run file: by turn (its trailing number), world state first within a turn. */
function fileOrder(name) {
  const m = /-(\d+)\.md$/.exec(name);
  const turn = m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
  const kind = name.startsWith('world-state-') ? 0 : name.startsWith('bilateral-') || name.startsWith('coalition-') ? 2 : name.startsWith('validation') ? 3 : 1;
  return [turn, kind, name];
}
const byFile = (a, b) => {
  const [x, y] = [fileOrder(a), fileOrder(b)];
  return x[0] - y[0] || x[1] - y[1] || (x[2] < y[2] ? -1 : 1);
};

async function openRun(app, runId) {
  const view = app.results;
  view.selected = runId;
  for (const tr of document.querySelectorAll('#runs-table tbody tr')) tr.classList.toggle('selected', tr.dataset.run === runId);
  const { ws, dir } = view.source;
  const run = await app.engine.call('runFiles', [ws, `${dir}/runs/${runId}`]);
  const md = Object.keys(run.texts).sort(byFile);
  const body = h('div', { class: 'md', id: 'file-view' });
  const tabs = h('div', { class: 'file-tabs', id: 'file-tabs' }, md.map((name) => h('button', {
    type: 'button',
    dataset: { file: name },
    'aria-pressed': 'false',
    onclick: () => openFile(name),
  }, name.replace(/\.md$/, ''))));
  async function openFile(name) {
    for (const b of tabs.children) b.setAttribute('aria-pressed', String(b.dataset.file === name));
    fill(body, await renderMarkdown(run.texts[name]));
    body.dataset.file = name;
  }
  const state = run.run; // the core's listing of the run (its status, turns, halt reason)
  const costs = run.costs ?? {};
  const table = (title, obj, id) => (obj && Object.keys(obj).length
    ? h('div', null, h('h3', null, title), h('table', { class: 'data', id }, h('tbody', null,
      Object.entries(obj).map(([k, v]) => h('tr', null, h('td', null, k), h('td', { class: 'num' }, typeof v === 'number' ? usd(v) : String(v)))))))
    : null);
  const metrics = run.metrics?.final_metrics ?? {};
  fill($('#run-detail'),
    h('h2', null, runId, ' ', h('span', { class: `status ${state.status}` }, state.status)),
    h('p', { class: 'muted' }, `${state.turns ?? '?'} of ${state.total_turns ?? '?'} turns · ${costs.calls ?? '?'} calls · ${usd(costs.total_cost)}`,
      state.halt_reason ? ` · halted: ${state.halt_reason}` : '', state.error ? ` · ${state.error}` : ''),
    h('div', { class: 'columns' },
      h('div', null,
        table('Cost by role', costs.by_role, 'cost-by-role'),
        table('Cost by actor', costs.by_actor, 'cost-by-actor'),
        table('Cost by model', costs.by_model, 'cost-by-model')),
      Object.keys(metrics).length ? h('div', null, h('h3', null, 'Final metrics'), h('table', { class: 'data', id: 'final-metrics' }, h('tbody', null,
        Object.entries(metrics).map(([k, v]) => h('tr', null, h('td', null, h('code', null, k)), h('td', { class: 'num' }, v == null ? '–' : String(v))))))) : h('div')),
    h('h3', null, 'Files'),
    md.length ? tabs : h('p', { class: 'muted' }, 'This run kept no markdown files (save_individual_runs: false).'),
    body);
  if (md.length) await openFile(md[0]);
}
