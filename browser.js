// browser.js: the package's browser (default) entry. Call `await init()` once before using the
// API; it fetches pkg/scenario_lab_bg.wasm next to this file (bundlers rewrite the URL).
//
//   import init, { validate } from 'scenario-lab';
//   await init();
import init, { analyzeBatch } from './pkg/scenario_lab.js';
import { makeBatchAnalyzer } from './analyzer.js';

export default init;
export * from './pkg/scenario_lab.js';

/** The analyzer over a Storage (for example a memory storage of uploaded files). */
export const BatchAnalyzer = makeBatchAnalyzer(analyzeBatch);
