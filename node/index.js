// node/index.js: the package's Node entry (`import { planBatch, nodeStorage } from 'scenario-lab'`).
// The wasm core's API, already initialised, plus the filesystem Storage.
export * from './wasm.js';
export { nodeStorage } from './storage.js';
