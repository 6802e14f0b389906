// node/wasm.js is the one place that loads the wasm module in Node. Node's `fetch` cannot read
// `file:` URLs, so the generated `init()` fails there; instead we read the bytes from disk and
// instantiate synchronously with `initSync`, once, when this module is first imported. Every
// other Node module imports the API from here, never from ../pkg directly.

import { readFileSync } from 'node:fs';
import { initSync } from '../pkg/scenario_lab.js';

initSync({ module: readFileSync(new URL('../pkg/scenario_lab_bg.wasm', import.meta.url)) });

export * from '../pkg/scenario_lab.js';
