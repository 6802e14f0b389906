// lib/browser.js: the package's browser (default) entry, and a short tutorial for embedders.
//
// 1. Load the wasm once: `await init()` (it fetches pkg/scenario_lab_bg.wasm, beside this folder;
//    bundlers rewrite the URL). Do it in a Worker if the page must stay responsive while a batch
//    runs: the engine is async on one thread.
// 2. Pick a Storage: `opfsStorage()` (the origin-private file system: kept across reloads, so a
//    batch resumes), `indexedDbStorage()`, or `memoryStorage(files)` (gone with the page). Any
//    object with async read / write / append / list / exists / remove will do.
// 3. Validate, plan and run; fold the events into a live view with `BatchProgress`:
//
//   import init, { validate, planBatch, runBatch, memoryStorage, BatchProgress } from 'scenario-lab';
//   await init();
//   const storage = memoryStorage({ 'batch.yaml': yamlText, ...scenarioFiles });
//   const report = await validate('batch.yaml', storage);      // errors with file, line, column
//   const plan = await planBatch('batch.yaml', storage);         // runs, cost range, time, budget
//   const progress = new BatchProgress({ totalRuns: plan.total_runs, runsPerVariation: plan.runs_per_variation });
//   const outcome = await runBatch('batch.yaml', storage, {}, {
//     onEvent: (e) => draw(progress.event(e).snapshot()),
//     shouldStop: () => stopButtonPressed,                       // graceful: resume later with { resume: true }
//   });
//
// 4. For current prices (and to check model ids), give `runBatch` and `planBatch` the provider's
//    model list: `(await fetchModelList(baseUrl, apiKey)).text` as `openrouterModels`.
// 5. Read the results from the same storage: `<output_dir>/batch-summary.json`, `batch-costs.json`
//    and `runs/<run id>/` (world states, decisions, metrics.json, costs.json). LLM output in
//    those files is untrusted text: render it as text, never as HTML.
import init, { analyzeBatch } from '../pkg/scenario_lab.js';
import { makeBatchAnalyzer } from './analyzer.js';

export default init;
export * from '../pkg/scenario_lab.js';
export { memoryStorage } from './storage/memory.js';
export { opfsStorage } from './storage/opfs.js';
export { indexedDbStorage } from './storage/indexeddb.js';
export { BatchProgress, runId } from './batch-progress.js';
export { fetchModelList, OPENROUTER_BASE } from './models.js';

// The types of the storages, the progress fold and the model list, for the package's index.d.ts.
/** @typedef {import('./storage/memory.js').TreeStorage} TreeStorage */
/** @typedef {import('./storage/memory.js').MemoryStorage} MemoryStorage */
/** @typedef {import('./storage/opfs.js').OpfsStorage} OpfsStorage */
/** @typedef {import('./storage/indexeddb.js').IndexedDbStorage} IndexedDbStorage */
/** @typedef {import('./batch-progress.js').BatchSnapshot} BatchSnapshot */
/** @typedef {import('./batch-progress.js').RunViewStatus} RunViewStatus */
/** @typedef {import('./models.js').ModelList} ModelList */

/**
 * An analyzer (`new BatchAnalyzer(dir, storage)`), the instance type of the class below.
 * @typedef {import('./analyzer.js').BatchAnalyzer} BatchAnalyzer
 */

/** The analyzer over a Storage (for example a memory storage of uploaded files). */
export const BatchAnalyzer = makeBatchAnalyzer(analyzeBatch);
