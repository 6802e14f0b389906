// bench/_floor.mjs: the floor of any analyzer written in Node: read and JSON-parse every JSON
// file of the batch folder and of each run folder, and nothing else (on our trees that includes
// costs.json, which our analysis does not read).
// Prints the number of files and bytes. Used by bench/analysis.mjs: `node bench/_floor.mjs <tree>`.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
let files = 0;
let bytes = 0;
const parse = (path) => {
  const text = readFileSync(path);
  bytes += text.length;
  files += 1;
  JSON.parse(text);
};
for (const name of readdirSync(dir)) if (name.endsWith('.json')) parse(join(dir, name));
const runs = join(dir, 'runs');
for (const run of readdirSync(runs)) {
  for (const name of readdirSync(join(runs, run))) if (name.endsWith('.json')) parse(join(runs, run, name));
}
console.log(`${files} files, ${bytes} bytes read and parsed`);
