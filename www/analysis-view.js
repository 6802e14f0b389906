// www/analysis-view.js owns the analysis view: after a batch finishes or a result tree is
// uploaded, it asks the worker to analyse the tree (the core's `analyzeBatch`, which writes
// <dir>/analysis/ through the storage), shows the self-contained `report.html` in a sandboxed
// iframe (`sandbox=""`: no scripts, no same-origin access, no navigation; the report has inline
// SVG charts and no scripts), and offers every analysis file for download.
//
// The one call into the core is `ops.analyze` in www/worker.js.

import { $, download, fill, h } from './dom.js';

const TYPES = { '.html': 'text/html', '.md': 'text/markdown', '.json': 'application/json', '.csv': 'text/csv' };

export function init(app) {
  fill($('#view-analysis'), h('p', { class: 'muted' }, 'Run a batch or upload a result tree, then analyse it here.'));
}

/** Analyses `{ ws, dir }` and shows the report. */
let seq = 0;

export async function analyze(app, source) {
  if (!source) return;
  const mine = ++seq; // the latest request (a finished batch, an upload) is the one shown
  const view = $('#view-analysis');
  fill(view, h('p', { class: 'muted' }, `Analysing ${source.dir}…`));
  let result;
  try {
    result = await app.engine.call('analyze', [source.ws, source.dir]);
  } catch (e) {
    if (mine === seq) fill(view, h('p', { class: 'alert' }, `The analysis failed: ${e.message}`));
    return;
  }
  if (mine !== seq) return;
  const { files } = result;
  const frame = h('iframe', { class: 'report', sandbox: '', title: 'Analysis report', referrerpolicy: 'no-referrer' });
  frame.srcdoc = files['report.html'] ?? '<p>The analysis wrote no report.html.</p>';
  fill(view,
    h('div', { class: 'bar' }, h('strong', null, `Analysis of ${source.dir}`),
      Object.keys(files).sort().map((name) => h('button', {
        type: 'button',
        onclick: () => download(files[name], name, TYPES[name.slice(name.lastIndexOf('.'))] ?? 'text/plain'),
      }, `⬇ ${name}`))),
    frame);
}
