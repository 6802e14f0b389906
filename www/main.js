// www/main.js owns the page's wiring: it starts the engine worker, installs the bundled
// examples, restores the last session (which config was open, so that a batch interrupted by a
// reload can be resumed), switches views, and routes opened and dropped folders and zips. Each
// view is its own module; the state they share is the `app` object below.

import { Engine } from './rpc.js';
import { $ } from './dom.js';
import { projectName, readDrop } from './files.js';
import * as experiment from './experiment-view.js';
import * as planView from './plan-view.js';
import * as runView from './run-view.js';
import * as resultsView from './results-view.js';
import * as analysisView from './analysis-view.js';
import * as newScenario from './new-scenario.js';

const SESSION = 'scenario-lab:session';
const DEFAULT = { project: 'examples', path: 'experiments/quick-start/batch-config.yaml' };
const TABS = ['experiment', 'plan', 'run', 'results', 'analysis'];

const app = {
  engine: new Engine(),
  features: null,
  project: null,
  path: null,
  text: '',
  savedText: null,
  check: null,
  plan: null,
  upload: null,
  tab: 'experiment',

  show(tab) {
    if (location.hash !== `#${tab}`) location.hash = tab;
    else route();
  },

  alert(message, kind = 'error') {
    const el = $('#alert');
    el.className = `alert ${kind === 'info' ? 'info' : ''}`;
    el.textContent = message;
    el.hidden = false;
  },
  info(message) {
    app.alert(message, 'info');
  },
  clearAlert() {
    $('#alert').hidden = true;
  },

  rememberSession() {
    localStorage.setItem(SESSION, JSON.stringify({ project: app.project, path: app.path }));
  },

  async openConfig(project, path) {
    app.clearAlert();
    const text = await app.engine.call('read', [project, path]);
    if (text == null) {
      app.alert(`${path} is not in ${project}.`);
      return;
    }
    app.project = project;
    app.path = path;
    app.savedText = text;
    app.plan = null;
    $('#config-path').textContent = path;
    $('#revert-config').hidden = project !== 'examples';
    app.rememberSession();
    await experiment.setText(app, text);
    if (app.tab !== 'experiment') await route();
  },

  /** Plans the current config without showing the plan view; null when it cannot. */
  async planQuietly() {
    try {
      app.plan = (await app.engine.call('plan', [app.project, app.path, app.text])).plan;
    } catch {
      app.plan = null;
    }
    return app.plan;
  },

  async refreshChooser() {
    const names = await app.engine.call('projects');
    const projects = [];
    for (const project of ['examples', ...names.filter((n) => n !== 'examples').sort()]) {
      projects.push({ project, configs: await app.engine.call('findConfigs', [project]) });
    }
    experiment.fillChooser(app, projects);
  },

  async importProject(name, payload) {
    const project = projectName(name);
    busy(`Opening ${name}…`);
    try {
      const r = await app.engine.call('importProject', [project, payload], transferables(payload));
      await app.refreshChooser();
      if (!r.configs.length) {
        app.alert(`${name} holds no batch config (a YAML file with base_scenario). ${r.written} file(s) were copied into the page's storage as "${project}".`);
        return;
      }
      await app.openConfig(project, r.configs[0]);
      await app.refreshChooser();
      app.info(`Opened ${name}: ${r.written} file(s)${r.skipped.length ? `, ${r.skipped.length} binary or large file(s) skipped` : ''}; ${r.configs.length} batch config(s).`);
      app.show('experiment');
    } catch (e) {
      app.alert(`Could not open ${name}: ${e.message}`);
    } finally {
      busy(null);
    }
  },

  async uploadResults(name, payload) {
    busy(`Loading ${name}…`);
    try {
      const r = await app.engine.call('importResults', [payload], transferables(payload));
      app.upload = { name, root: r.root };
      const source = { ws: 'upload', dir: r.root };
      app.results.source = source;
      if (app.tab !== 'results') app.show('results');
      await resultsView.show(app, source);
      app.info(`Loaded ${name}: ${r.written} file(s) into this tab's memory (nothing is stored).`);
      await analysisView.analyze(app, source);
    } catch (e) {
      app.alert(`Could not load ${name}: ${e.message}`);
    } finally {
      busy(null);
    }
  },

  async onBatchFinished() {
    const dir = app.check?.config?.output_dir;
    if (dir) await analysisView.analyze(app, { ws: app.project, dir });
  },
};

const transferables = (payload) => (payload.zip ? [payload.zip] : (payload.files ?? []).map((f) => f.bytes));

function busy(text) {
  const el = $('#busy');
  el.hidden = !text;
  el.textContent = text ?? '';
}

async function route() {
  const tab = TABS.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'experiment';
  const shown = tab;
  if (shown !== app.tab && $('#alert').classList.contains('info')) app.clearAlert();
  app.tab = shown;
  for (const a of document.querySelectorAll('.tabs a')) a.setAttribute('aria-selected', String(a.dataset.tab === shown));
  for (const v of document.querySelectorAll('.view')) v.hidden = v.dataset.view !== shown;
  if (!app.features) return;
  try {
    if (shown === 'plan') await planView.show(app);
    else if (shown === 'run') await app.refreshRun();
    else if (shown === 'results') await resultsView.show(app);
  } catch (e) {
    app.alert(e.message);
  }
}

function setupDrop() {
  let depth = 0;
  const overlay = $('#drop-overlay');
  const target = () => (app.tab === 'results' ? 'results' : 'project');
  document.addEventListener('dragenter', (e) => {
    if (![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
    depth++;
    $('#drop-text').textContent = target() === 'results'
      ? 'Drop a result folder or zip to browse it'
      : 'Drop a zip or folder holding a scenario and a batch config to open it';
    overlay.hidden = false;
  });
  document.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) overlay.hidden = true;
  });
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', async (e) => {
    e.preventDefault();
    depth = 0;
    overlay.hidden = true;
    const dropped = await readDrop(e.dataTransfer);
    if (!dropped) {
      app.alert('Drop a .zip file or a folder.');
      return;
    }
    const payload = dropped.kind === 'zip' ? { zip: dropped.bytes } : { files: dropped.files };
    if (target() === 'results') await app.uploadResults(dropped.kind === 'zip' ? `${dropped.name}.zip` : dropped.name, payload);
    else await app.importProject(dropped.name, payload);
  });
}

async function boot() {
  busy('Starting the engine…');
  experiment.init(app);
  newScenario.init(app);
  planView.init(app);
  runView.init(app);
  resultsView.init(app);
  setupDrop();
  window.addEventListener('hashchange', route);
  route();
  try {
    app.features = await app.engine.call('hello');
  } catch (e) {
    busy(null);
    app.alert(`The engine did not start: ${e.message}`);
    return;
  }
  performance.mark('scenario-lab:engine'); // the worker has loaded and instantiated the wasm
  $('#version').textContent = `v${app.features.version}`;
  $('#storage-kind').textContent = app.features.storage === 'opfs'
    ? 'files kept in this browser (origin-private file system)'
    : 'files kept in this browser (IndexedDB)';
  analysisView.init(app);
  busy('Installing the examples…');
  try {
    await app.engine.call('installExamples');
  } catch (e) {
    app.alert(e.message);
  }
  performance.mark('scenario-lab:examples');
  await app.refreshChooser();
  let session = DEFAULT;
  try {
    session = { ...DEFAULT, ...JSON.parse(localStorage.getItem(SESSION) ?? '{}') };
  } catch {
    session = DEFAULT;
  }
  const found = await app.engine.call('read', [session.project, session.path]).catch(() => null);
  if (found == null) session = DEFAULT;
  await app.openConfig(session.project, session.path);
  await app.refreshChooser();
  busy(null);
  await route();
  document.body.dataset.ready = 'true';
  // Time to interactive: the engine is up, the examples are in storage, a config is open and
  // validated. The browser tests read this mark.
  performance.mark('scenario-lab:interactive');
}

boot();
