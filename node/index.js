// node/index.js: the package's Node entry (`import { planBatch, nodeStorage } from 'scenario-lab'`).
// The wasm core's API, already initialised, plus the filesystem Storage and the analyzer.
import { analyzeBatch } from './wasm.js';
import { confinedStorage } from './storage.js';
import { makeBatchAnalyzer } from '../analyzer.js';

export * from './wasm.js';
export { nodeStorage } from './storage.js';

/** The analyzer over a folder on disk (reads confined to that folder). */
export const BatchAnalyzer = makeBatchAnalyzer(analyzeBatch, confinedStorage);
