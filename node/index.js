// node/index.js: the package's Node entry (`import { planBatch, nodeStorage } from 'scenario-lab'`).
// The wasm core's API, already initialised, plus the filesystem Storage, and from lib/ (shared
// with the browser entry) the analyzer, the progress fold and the provider's model list.
import { analyzeBatch } from './wasm.js';
import { confinedStorage } from './storage.js';
import { makeBatchAnalyzer } from '../lib/analyzer.js';

export * from './wasm.js';
export { nodeStorage } from './storage.js';
export { fetchModelList, OPENROUTER_BASE } from '../lib/models.js';
export { BatchProgress, runId } from '../lib/batch-progress.js';

/**
 * An analyzer (`new BatchAnalyzer(dir)`), the instance type of the class below.
 * @typedef {import('../lib/analyzer.js').BatchAnalyzer} BatchAnalyzer
 */

/** The analyzer over a folder on disk (reads confined to that folder). */
export const BatchAnalyzer = makeBatchAnalyzer(analyzeBatch, confinedStorage);
