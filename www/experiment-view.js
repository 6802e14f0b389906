// www/experiment-view.js owns the first view: choosing a batch config (a bundled example, a
// folder or a zip from disk), showing its scenario (actors, metrics, events, checks), and the
// YAML editor, validated by the core as the user types with each error shown at its line.
// Validation is the core's `validate` over the text as typed (the worker lays it over the
// stored files); nothing is saved until Save, Plan or Run.

import { $, fill, h } from './dom.js';
import { folderName, projectName, readDirectoryHandle, readFileList } from './files.js';

const LINE_HEIGHT = 18;

export function init(app) {
  const text = $('#config-text');
  const gutter = $('#gutter');
  let timer = null;
  let seq = 0;

  text.addEventListener('input', () => {
    app.text = text.value;
    app.check = null;
    drawGutter([]);
    $('#validity').className = 'validity pending';
    $('#validity').textContent = 'checking…';
    clearTimeout(timer);
    timer = setTimeout(() => validateNow(app), 200);
  });
  text.addEventListener('scroll', () => { gutter.scrollTop = text.scrollTop; });
  text.addEventListener('keydown', (e) => {
    // Tab indents with two spaces (YAML has no tabs) instead of leaving the editor.
    if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      text.setRangeText('  ', text.selectionStart, text.selectionEnd, 'end');
      text.dispatchEvent(new Event('input'));
    }
  });

  $('#config-select').addEventListener('change', (e) => {
    const [project, path] = JSON.parse(e.target.value);
    app.openConfig(project, path);
  });
  $('#save-config').addEventListener('click', () => save(app));
  $('#revert-config').addEventListener('click', async () => {
    const original = await app.engine.call('bundledText', [app.path]);
    if (original != null) setText(app, original);
  });
  $('#to-plan').addEventListener('click', () => app.show('plan'));

  $('#open-folder').addEventListener('click', async () => {
    if (typeof window.showDirectoryPicker === 'function') {
      let dir;
      try {
        dir = await window.showDirectoryPicker({ id: 'scenario-lab-project', mode: 'read' });
      } catch {
        return; // cancelled
      }
      await app.importProject(dir.name, { files: await readDirectoryHandle(dir) });
    } else {
      $('#folder-input').click();
    }
  });
  $('#folder-input').addEventListener('change', async (e) => {
    const list = e.target.files;
    if (list?.length) await app.importProject(folderName(list), { files: await readFileList(list) });
    e.target.value = '';
  });
  $('#open-zip').addEventListener('click', () => $('#zip-input').click());
  $('#zip-input').addEventListener('change', async (e) => {
    const file = e.target.files?.[0];
    if (file) await app.importProject(file.name.replace(/\.zip$/i, ''), { zip: await file.arrayBuffer() });
    e.target.value = '';
  });

  // The latest check: a caller that needs the verdict (Plan, Start) waits for the check of the
  // text as it is now, never for an older one.
  let latest = Promise.resolve(null);
  app.validateNow = () => validateNow(app);

  function validateNow() {
    clearTimeout(timer);
    latest = check(++seq);
    return latest;
  }

  async function check(mine) {
    const { project, path } = app;
    if (!project || !path) return null;
    try {
      const result = await app.engine.call('check', [project, path, app.text]);
      if (mine !== seq) return latest; // the text changed meanwhile: the newer check answers
      app.check = result;
      showReport(app, result.report);
      showScenario(result.config);
      app.onChecked?.(result);
      return result;
    } catch (e) {
      if (mine !== seq) return latest;
      app.alert(`Could not validate ${path}: ${e.message}`);
      return null;
    }
  }

  function drawGutter(marks) {
    const lines = app.text.split('\n').length;
    const byLine = new Map(marks.map((m) => [m.line, m]));
    const rows = [];
    for (let i = 1; i <= lines; i++) {
      const m = byLine.get(i);
      rows.push(h('div', m ? { class: m.severity === 'error' ? 'err' : 'warn', title: m.message, dataset: { line: String(i) } } : null, String(i)));
    }
    fill(gutter, rows);
    gutter.scrollTop = text.scrollTop;
  }

  function showReport(_app, report) {
    const here = (d) => d.file === app.path || d.file.endsWith(`/${app.path}`);
    const diags = [...report.errors, ...report.warnings];
    drawGutter(diags.filter((d) => here(d) && d.line).map((d) => ({ line: d.line, severity: d.severity, message: d.message })));
    const v = $('#validity');
    v.className = `validity ${report.ok ? 'ok' : 'bad'}`;
    v.textContent = report.ok
      ? `✓ valid${report.warnings.length ? ` (${report.warnings.length} warning${report.warnings.length === 1 ? '' : 's'})` : ''}`
      : `✗ ${report.errors.length} error${report.errors.length === 1 ? '' : 's'}`;
    fill($('#diagnostics'), diags.map((d) => h('li', {
      class: d.severity,
      dataset: { line: d.line ?? '', file: d.file },
      title: here(d) && d.line ? 'Go to the line' : null,
      onclick: () => { if (here(d) && d.line) goToLine(d.line, d.column ?? 1); },
    },
    h('strong', null, here(d) && d.line ? `Line ${d.line}${d.column ? `, column ${d.column}` : ''}: ` : `${d.file}${d.line ? `:${d.line}` : ''}: `),
    d.message,
    d.suggestion ? h('span', { class: 'muted' }, ` (${d.suggestion})`) : null,
    d.expected ? h('div', { class: 'muted small' }, `expected: ${d.expected}`) : null)));
  }

  function goToLine(line, column) {
    const lines = text.value.split('\n');
    let pos = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
    pos += Math.max(0, column - 1);
    text.focus();
    text.setSelectionRange(pos, pos);
    text.scrollTop = Math.max(0, (line - 5) * LINE_HEIGHT);
  }

  app.drawGutter = drawGutter;
}

/** Puts a config's text in the editor and validates it. */
export function setText(app, value) {
  const text = $('#config-text');
  text.value = value;
  app.text = value;
  app.check = null;
  app.drawGutter([]);
  return app.validateNow();
}

async function save(app) {
  if (!app.project || !app.path) return;
  await app.engine.call('write', [app.project, app.path, app.text]);
  app.savedText = app.text;
  app.info(`Saved ${app.path}.`);
}

/** Fills the config chooser: the examples first, then each opened project. */
export function fillChooser(app, projects) {
  const select = $('#config-select');
  fill(select, projects.map(({ project, configs }) => h('optgroup', { label: project === 'examples' ? 'Bundled examples' : `Opened: ${project}` },
    configs.length
      ? configs.map((path) => h('option', { value: JSON.stringify([project, path]), selected: project === app.project && path === app.path }, path))
      : h('option', { disabled: true }, '(no batch config found)'))));
}

function showScenario(config) {
  const panel = $('#scenario-panel');
  if (!config) {
    // Keep showing the last valid scenario, marked as such, while the config has errors.
    const note = h('p', { class: 'muted small', id: 'scenario-stale' }, 'As of the last valid config: the config has errors now.');
    if (panel.dataset.shown) $('#scenario-stale')?.remove() ?? null;
    if (panel.dataset.shown) panel.prepend(note);
    else fill(panel, h('p', { class: 'muted' }, 'The scenario is shown once the config is valid.'));
    return;
  }
  panel.dataset.shown = 'true';
  const sc = config.scenario;
  const comms = sc.communication ?? {};
  fill(panel,
    h('h2', null, sc.name ?? sc.dir),
    h('div', { class: 'muted small' }, h('code', null, sc.dir)),
    sc.description ? h('div', { class: 'scenario-desc' }, sc.description.trim().split(/\n\s*\n/).map((para) => h('p', null, para.replace(/\s*\n\s*/g, ' ')))) : null,
    h('table', { class: 'data' }, h('tbody', null,
      h('tr', null, h('th', null, 'Turns'), h('td', null, `${sc.turns}${sc.turn_duration ? ` × ${sc.turn_duration}` : ''}`)),
      h('tr', null, h('th', null, 'World model'), h('td', null, h('code', null, sc.world_state_model ?? '–'))),
      h('tr', null, h('th', null, 'Communication'), h('td', null, [comms.bilateral ? 'bilateral' : null, comms.coalitions ? 'coalitions' : null].filter(Boolean).join(', ') || 'none')),
      h('tr', null, h('th', null, 'Experiment'), h('td', null, `${config.experiment_name}: ${config.runs_per_variation} run(s) per variation, ${config.max_parallel} at once${config.budget_limit != null ? `, budget $${config.budget_limit}` : ''}`)),
      h('tr', null, h('th', null, 'Output'), h('td', null, h('code', null, config.output_dir))))),
    h('h3', null, `Actors (${sc.actors.length})`),
    h('table', { class: 'data', id: 'actors-table' },
      h('thead', null, h('tr', null, h('th', null, 'Actor'), h('th', null, 'Model'), h('th', null, 'Role'))),
      h('tbody', null, sc.actors.map((a) => h('tr', null,
        h('td', null, h('strong', null, a.short_name), h('div', { class: 'muted small' }, a.name)),
        h('td', null, h('code', null, a.model)),
        h('td', null, a.role ?? ''))))),
    h('h3', null, `Metrics (${sc.metrics.length})`),
    sc.metrics.length ? h('table', { class: 'data', id: 'metrics-table' }, h('tbody', null, sc.metrics.map((m) => h('tr', null,
      h('td', null, h('code', null, m.name)),
      h('td', null, h('span', { class: 'tag' }, m.value_type), ' ', h('span', { class: 'tag' }, m.extraction ?? '')),
      h('td', null, m.description ?? ''))))) : h('p', { class: 'muted' }, 'none'),
    h('h3', null, `Events (${sc.events.length})`),
    sc.events.length ? h('table', { class: 'data', id: 'events-table' }, h('tbody', null, sc.events.map((e) => h('tr', null,
      h('td', null, h('code', null, e.name)),
      h('td', null, h('span', { class: 'tag' }, e.kind ?? '')),
      h('td', null, e.description ?? ''))))) : h('p', { class: 'muted' }, 'none'),
    sc.checks.length ? [h('h3', null, `Quality checks (${sc.checks.length})`), h('p', null, sc.checks.map((c) => c.name).join(', '))] : null,
    config.variations.length ? [h('h3', null, 'Variations'), h('ul', null, config.variations.map((v) => h('li', null,
      h('span', { class: 'tag' }, v.type), ' ', [v.actor, v.parameter].filter(Boolean).join('.'), ': ', (v.values ?? []).map(String).join(', '))))] : null);
}

export { projectName };
