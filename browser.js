// browser.js: the package's browser (default) entry. Call `await init()` once before using the
// API; it fetches pkg/scenario_lab_bg.wasm next to this file (bundlers rewrite the URL).
//
//   import init, { validate } from 'scenario-lab';
//   await init();
import init from './pkg/scenario_lab.js';

export default init;
export * from './pkg/scenario_lab.js';
