// www/worker.js owns the engine side of the web page: it loads the wasm core, holds the
// storages, and answers the page's requests (validate, plan, run, stop, read the results, zip
// and unzip). Everything that decides anything is a call into the core (which files are batch
// configs, where a dropped result tree starts, each run's status); this file only moves files
// between storages and the page. The page talks to it through www/rpc.js.
//
// Workspaces: a project opened in the page (the bundled examples, a folder, a zip) lives in the
// origin-private file system under `projects/<name>/` (IndexedDB when OPFS is missing), so its
// batches survive a reload; an uploaded result tree lives in memory under the name `upload`.
//
// The API key, when the page sends one with a run, is passed to the core for that run and kept
// nowhere else: not in a storage, not in a variable that outlives the run.

import init, * as api from '../lib/browser.js';
import { memoryStorage, opfsStorage, indexedDbStorage } from '../lib/browser.js';
import { fetchModelList, modelsBase } from '../lib/models.js';

const ready = init();
const TEXT_LIMIT = 20 * 2 ** 20; // a file larger than this is not a scenario or result file
const SKIP_DIRS = new Set(['.git', 'node_modules', 'target', '.venv', '__pycache__']);

const workspaces = new Map();
const modelLists = new Map(); // base URL -> the text of its GET /models answer
let backend = null; // 'opfs' | 'indexeddb'
let stopRequested = false;
let running = false;
// The questions put to the person in a seat (`human: true`) that the page has not answered:
// id -> { resolve, reject }. The page shows each as a form in the Run view.
const questions = new Map();
let lastQuestion = 0;

/** The core's `askPerson`: the prompt goes to the page, and the page's answer comes back. */
function askPerson(prompt) {
  return new Promise((resolve, reject) => {
    const askId = ++lastQuestion;
    questions.set(askId, { resolve, reject });
    postMessage({ type: 'ask', askId, prompt });
  });
}

/** The storage of a workspace (`upload` is in memory; anything else is a project). */
function storage(name) {
  let s = workspaces.get(name);
  if (s) return s;
  if (name === 'upload') s = memoryStorage();
  else if (backend === 'opfs') s = opfsStorage({ root: `projects/${name}` });
  else s = indexedDbStorage({ name: `scenario-lab-${name}` });
  workspaces.set(name, s);
  return s;
}

async function pickBackend() {
  try {
    const s = opfsStorage({ root: 'projects' });
    await s.list('');
    return 'opfs';
  } catch {
    return 'indexeddb';
  }
}

/** A storage that answers reads of some paths from `files` (the editor's unsaved text). */
function overlay(base, files) {
  return {
    read: (p) => (p in files ? Promise.resolve(files[p]) : base.read(p)),
    write: (p, t) => base.write(p, t),
    append: (p, t) => base.append(p, t),
    list: (d) => base.list(d),
    exists: (p) => (p in files ? Promise.resolve(true) : base.exists(p)),
    remove: (p) => base.remove(p),
  };
}

/** Every file under `dir` (paths relative to it), skipping `skip` folder names. */
async function walk(s, dir, skip = new Set()) {
  const out = [];
  const visit = async (rel) => {
    const full = rel ? (dir ? `${dir}/${rel}` : rel) : dir;
    const names = await s.list(full);
    if (names === null) {
      if (rel) out.push(rel);
      return;
    }
    for (const name of names) {
      if (skip.has(name)) continue;
      await visit(rel ? `${rel}/${name}` : name);
    }
  };
  await visit('');
  return out;
}

/** Maps `fn` over `items`, `n` at a time, keeping order. */
async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

/** A JSON file's value, or null when it is missing or unreadable (costs and metrics, shown as they are). */
const parseJson = (text) => {
  if (text == null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
};

const dec = new TextDecoder('utf-8', { fatal: true });
/** UTF-8 text of a file's bytes, or null for a binary or too large file. */
function asText(bytes) {
  if (bytes.byteLength > TEXT_LIMIT) return null;
  try {
    const text = dec.decode(bytes);
    return text.includes('\0') ? null : text;
  } catch {
    return null;
  }
}

/** `files` ([{ path, bytes }]) with the folder that all of them share removed from their paths. */
function stripCommonRoot(files) {
  const firsts = new Set(files.map((f) => f.path.split('/')[0]));
  if (firsts.size === 1 && files.every((f) => f.path.includes('/'))) {
    return files.map((f) => ({ ...f, path: f.path.slice(f.path.indexOf('/') + 1) }));
  }
  return files;
}

function cleanPaths(files) {
  return files
    .map((f) => ({ ...f, path: f.path.split('/').filter((p) => p && p !== '.' && p !== '..').join('/') }))
    .filter((f) => f.path && !f.path.split('/').some((p) => SKIP_DIRS.has(p) || p === '__MACOSX'));
}

let fflate = null;
const zipLib = async () => (fflate ??= await import('./vendor/fflate.js'));

async function unzip(bytes) {
  const { unzipSync } = await zipLib();
  const entries = unzipSync(new Uint8Array(bytes));
  return Object.entries(entries)
    .filter(([path]) => !path.endsWith('/'))
    .map(([path, data]) => ({ path, bytes: data }));
}

/** Writes text files into a storage; returns how many were written and skipped. */
async function writeAll(s, files) {
  let written = 0;
  const skipped = [];
  await pool(files, 8, async (f) => {
    const text = typeof f.text === 'string' ? f.text : asText(f.bytes);
    if (text === null) {
      skipped.push(f.path);
      return;
    }
    await s.write(f.path, text);
    written++;
  });
  return { written, skipped };
}

/** The batch configs of a workspace, as the core finds them. */
async function findConfigs(name) {
  await ready;
  return api.findBatchConfigs('', storage(name));
}

/** The bits of a loaded batch config and scenario that the page shows. */
function describe(config) {
  const sc = config.scenario ?? {};
  return {
    experiment_name: config.experiment_name,
    description: config.description,
    output_dir: config.output_dir,
    runs_per_variation: config.runs_per_variation,
    max_parallel: config.max_parallel,
    budget_limit: config.budget_limit,
    variations: config.variations,
    scenario: {
      dir: sc.dir,
      name: sc.name,
      description: sc.description,
      turns: sc.turns,
      turn_duration: sc.turn_duration,
      world_state_model: sc.world_state_model,
      communication: sc.communication,
      actors: (sc.actors ?? []).map((a) => ({ name: a.name, short_name: a.short_name, model: a.model, role: a.role })),
      metrics: (sc.metrics ?? []).map((m) => ({ name: m.name, description: m.description, value_type: m.value_type, extraction: m.extraction?.type ?? null, unit: m.unit })),
      events: (sc.events ?? []).map((e) => ({ name: e.name, description: e.description, kind: e.kind?.type ?? null, turn_range: e.turn_range })),
      checks: (sc.checks?.checks ?? []).map((c) => ({ name: c.name, severity: c.severity, enabled: c.enabled })),
    },
  };
}

/** Each run folder's status and cost, as the core reads them (what it resumes from). */
async function listRuns(name, dir) {
  await ready;
  return api.listRuns(dir, storage(name));
}

/**
 * The server's model list (`GET <base>/models`, OpenRouter's when no base URL is given), for
 * current prices, as the CLI fetches it: only when a key is given, 10 s at most, once per base
 * per tab. A failure is a note on the dashboard, and the prices come from the config and the
 * built-in table.
 */
async function modelList(connection) {
  if (!connection?.apiKey) return undefined;
  const base = modelsBase(connection.baseUrl);
  if (modelLists.has(base)) return modelLists.get(base);
  const list = await fetchModelList(base, connection.apiKey);
  if (list.error !== undefined) {
    postMessage({ type: 'event', event: { type: 'note', data: { message: `could not fetch model prices from ${list.url} (${list.error}); using the config's prices and the built-in table` } } });
    return undefined;
  }
  modelLists.set(base, list.text);
  return list.text;
}

const ops = {
  async hello() {
    await ready;
    backend ??= await pickBackend();
    return {
      version: api.version(),
      storage: backend,
    };
  },

  /** Copies the bundled examples into the `examples` project; files already there are kept. */
  async installExamples() {
    const res = await fetch(new URL('./examples.json', import.meta.url));
    if (!res.ok) throw new Error(`cannot load the bundled examples (examples.json: HTTP ${res.status})`);
    const manifest = await res.json();
    const s = storage('examples');
    const missing = [];
    for (const [path, text] of Object.entries(manifest.files)) {
      if (!(await s.exists(path))) missing.push({ path, text });
    }
    await writeAll(s, missing);
    return { configs: await findConfigs('examples'), installed: missing.length };
  },

  async bundledText(path) {
    const res = await fetch(new URL('./examples.json', import.meta.url));
    return (await res.json()).files[path] ?? null;
  },

  async projects() {
    if (backend === 'opfs') return (await opfsStorage({ root: 'projects' }).list('')) ?? [];
    const dbs = (await indexedDB.databases?.()) ?? [];
    return dbs.map((d) => d.name).filter((n) => n?.startsWith('scenario-lab-')).map((n) => n.slice('scenario-lab-'.length));
  },

  findConfigs,

  /**
   * Writes files ([{ path, bytes }]) or a zip (bytes) into a project. Files of the same path are
   * replaced; the rest of the project (the outputs of batches run in the page) is kept.
   */
  async importProject(name, { files, zip }) {
    let list = zip ? await unzip(zip) : files;
    list = stripCommonRoot(cleanPaths(list));
    const s = storage(name);
    const result = await writeAll(s, list);
    return { ...result, configs: await findConfigs(name) };
  },

  /** Loads an uploaded result tree (files or a zip) into memory; returns where its root is. */
  async importResults({ files, zip }) {
    const list = cleanPaths(zip ? await unzip(zip) : files);
    workspaces.delete('upload');
    const s = storage('upload');
    const result = await writeAll(s, list);
    await ready;
    const root = await api.resultRoot('', s);
    if (root === null) throw new Error('no result tree found: expected a folder with runs/ or batch-summary.json');
    return { ...result, root };
  },

  /** What the "New scenario" form offers: the core's templates and models with prices. */
  async initChoices() {
    await ready;
    return { templates: api.initTemplates(), models: api.initModels() };
  },

  async initTemplate(name) {
    await ready;
    return api.initTemplate(name);
  },

  /**
   * The "New scenario" form's answers to a new project, made by the core as `scenario-lab init`
   * makes it, named after the scenario (with a number when that name is taken: a project is
   * never written over). Answers with problems throw the core's message, listing each.
   */
  async createProject(answers) {
    await ready;
    const made = api.initProject(answers);
    const slug = made.scenario_dir.split('/').pop();
    const taken = new Set([...(await ops.projects()), 'examples', 'upload']);
    let name = slug;
    for (let i = 2; taken.has(name); i++) name = `${slug}-${i}`;
    await writeAll(storage(name), made.files);
    return { project: name, config: made.batch_config, files: made.files.map((f) => f.path) };
  },

  read: (name, path) => storage(name).read(path),
  write: (name, path, text) => storage(name).write(path, text),

  /** Validates the config as typed (without saving it); when valid, the config and scenario. */
  async check(name, path, text) {
    await ready;
    const s = text == null ? storage(name) : overlay(storage(name), { [path]: text });
    const report = await api.validate(path, s);
    let config = null;
    if (report.ok) config = describe(await api.loadBatchConfig(path, s));
    return { report, config };
  },

  /** The model ids of `models` that go to a hosted provider (they need a key, or a server). */
  async hostedModels(models) {
    await ready;
    return models.filter((m) => api.isHostedModel(m));
  },

  async plan(name, path, text) {
    await ready;
    const s = text == null ? storage(name) : overlay(storage(name), { [path]: text });
    const plan = await api.planBatch(path, s);
    return { plan, text: api.renderPlan(plan, { color: false }) };
  },

  /** What is on disk of a batch: whether it started, its summary's headline, each run folder. */
  async batchStatus(name, dir) {
    await ready;
    return api.batchStatus(dir, storage(name));
  },

  listRuns,

  /** Runs (or resumes) a batch, sending its events to the page; resolves to its outcome. */
  async run(name, path, text, connection, options) {
    await ready;
    if (running) throw Object.assign(new Error('a batch is already running in this tab'), { kind: 'usage' });
    const s = storage(name);
    const go = async () => {
      running = true;
      stopRequested = false;
      try {
        // Validated by the page before; the core checks again and refuses a bad config.
        if (text != null) await s.write(path, text);
        const openrouterModels = await modelList(connection);
        return await api.runBatch(path, s, { ...connection, freshSeed: Math.floor(Math.random() * 2 ** 47) }, {
          resume: Boolean(options?.resume),
          budgetLimit: options?.budgetLimit ?? undefined,
          openrouterModels,
          onEvent: (event) => postMessage({ type: 'event', event }),
          shouldStop: () => stopRequested,
          askPerson,
        });
      } finally {
        running = false;
      }
    };
    // One tab at a time per project: two tabs running into the same files would each believe
    // the other's runs were theirs. The lock is released when the run ends or the tab goes.
    if (!navigator.locks) return go();
    return navigator.locks.request(`scenario-lab:${name}`, { ifAvailable: true }, (lock) => {
      if (!lock) throw Object.assign(new Error(`another tab is running a batch of ${name === 'examples' ? 'the examples' : name}; pause it there, or wait`), { kind: 'refused' });
      return go();
    });
  },

  stop() {
    stopRequested = true;
    // A run waiting for the person stops too (Resume asks again).
    for (const [askId, q] of questions) {
      questions.delete(askId);
      q.reject(new Error('the batch was paused'));
    }
    return running;
  },

  /** The person's reply to question `askId`. */
  answer(askId, text) {
    const q = questions.get(askId);
    if (!q) return false;
    questions.delete(askId);
    q.resolve(text);
    return true;
  },

  /** Deletes a batch's outputs (to start it over). Only a folder holding batch files or runs. */
  async deleteOutputs(name, dir) {
    const s = storage(name);
    if (running) throw new Error('a batch is running');
    for (const f of ['batch-state.json', 'batch-costs.json', 'batch-summary.json']) await s.remove(`${dir}/${f}`);
    await s.removeTree(`${dir}/runs`);
    await s.removeTree(`${dir}/analysis`);
    return true;
  },

  /** The files of one run: their names, the text of the markdown ones, costs and metrics. */
  async runFiles(name, runDir) {
    await ready;
    const s = storage(name);
    const names = (await s.list(runDir)) ?? [];
    const texts = {};
    await pool(names.filter((n) => n.endsWith('.md')), 8, async (n) => {
      texts[n] = await s.read(`${runDir}/${n}`);
    });
    return {
      names,
      texts,
      costs: parseJson(await s.read(`${runDir}/costs.json`)),
      metrics: parseJson(await s.read(`${runDir}/metrics.json`)),
      run: await api.readRun(runDir, s),
    };
  },

  /** A zip of the output tree under `dir`, in a folder named after it (the CLI's layout). */
  async exportZip(name, dir) {
    const { zipSync, strToU8 } = await zipLib();
    const s = storage(name);
    const top = dir.split('/').filter(Boolean).at(-1) || 'results';
    const files = await walk(s, dir);
    const entries = {};
    await pool(files, 8, async (rel) => {
      entries[`${top}/${rel}`] = strToU8((await s.read(dir ? `${dir}/${rel}` : rel)) ?? '');
    });
    const bytes = zipSync(entries, { level: 6 });
    return transfer(bytes, [bytes.buffer]);
  },

  /**
   * The analysis of an output tree: the core's `analyzeBatch` writes <dir>/analysis/ through the
   * storage; the page gets the files (report.html is shown, every file can be downloaded).
   */
  async analyze(name, dir) {
    await ready;
    const s = storage(name);
    const analysis = await api.analyzeBatch(dir, s, { write: true });
    const files = {};
    for (const n of (await s.list(`${dir}/analysis`)) ?? []) files[n] = await s.read(`${dir}/analysis/${n}`);
    return { analysis, files };
  },
};

// A result that should be transferred (not copied) to the page.
const TRANSFER = Symbol('transfer');
function transfer(value, list) {
  return { [TRANSFER]: list, value };
}

self.onmessage = async (msg) => {
  const { id, op, args } = msg.data ?? {};
  if (!(op in ops)) {
    postMessage({ id, error: { message: `no operation ${op}`, kind: 'internal' } });
    return;
  }
  try {
    let result = await ops[op](...(args ?? []));
    let list = [];
    if (result && result[TRANSFER]) {
      list = result[TRANSFER];
      result = result.value;
    }
    postMessage({ id, result }, list);
  } catch (e) {
    postMessage({
      id,
      error: {
        message: e?.message ?? String(e),
        kind: e?.kind ?? null,
        diagnostics: e?.diagnostics ?? null,
        stack: e?.kind ? null : e?.stack ?? null,
      },
    });
  }
};

postMessage({ type: 'loaded' });
