// bench/wasm-size.mjs: the size of the wasm core as shipped (pkg/scenario_lab_bg.wasm, after
// wasm-bindgen and wasm-opt -Oz), raw and gzipped (level 9, as a static server would send it),
// and, when `twiggy` is installed (`cargo install twiggy`), what the code is: the unoptimised
// build's functions (target/wasm32-unknown-unknown/release/scenario_lab.wasm, which still has
// its names) summed by the crate or module that owns them, shares of the whole.
// Baseline: issue 15's target, at most 300 KB gzipped for the full core.
// Run: node bench/wasm-size.mjs [--top 25]   (after `node scripts/build.mjs`)

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { ROOT, fmt, verdict } from './_lib.mjs';

const { values } = parseArgs({ options: { top: { type: 'string', default: '25' } } });
const SHIPPED = join(ROOT, 'pkg', 'scenario_lab_bg.wasm');
const NAMED = join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'wasm32-unknown-unknown', 'release', 'scenario_lab.wasm');
const TARGET = 300 * 1024;

if (!existsSync(SHIPPED)) {
  console.log('wasm-size: MISSED: pkg/ is not built (node scripts/build.mjs); nothing measured');
  process.exit(0);
}
const wasm = readFileSync(SHIPPED);
const gz = gzipSync(wasm, { level: 9 }).length;
console.log(`wasm-size: pkg/scenario_lab_bg.wasm ${fmt(wasm.length / 1024, 1)} KB raw, ${fmt(gz / 1024, 1)} KB gzipped (target <= 300 KB) ${verdict(gz <= TARGET)}; ratio to target ${fmt(gz / TARGET)}`);

const twiggy = spawnSync('twiggy', ['top', '-n', '1000000', '-f', 'csv', NAMED], { encoding: 'utf8', maxBuffer: 1 << 28 });
if (twiggy.error || twiggy.status !== 0 || !existsSync(NAMED)) {
  console.log('  (no breakdown: needs twiggy on PATH and the named build in target/)');
  process.exit(0);
}
// Name,ShallowSize,ShallowSizePercent,RetainedSize,RetainedSizePercent; names may hold commas
// inside quotes.
const owner = (name) => {
  if (name.startsWith('data segment')) return 'data (string constants, tables)';
  const ours = /scenario_lab::([a-z_]+)/.exec(name);
  if (ours) return `scenario_lab::${ours[1]}`;
  const crate = /(?:^|[<&(\s])(?:mut )?([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::/.exec(name);
  return crate ? crate[1] : '(unnamed)';
};
const sums = new Map();
let total = 0;
for (const line of twiggy.stdout.split('\n').slice(1)) {
  const m = /^(.*),(\d+),[\d.]+,\d*,[\d.]*$/.exec(line);
  if (!m) continue;
  const name = m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1];
  const size = Number(m[2]);
  // The names and wasm-bindgen's own section are not shipped (wasm-bindgen and wasm-opt drop them).
  if (/function names|^custom section/.test(name)) continue;
  total += size;
  sums.set(owner(name), (sums.get(owner(name)) ?? 0) + size);
}
console.log(`  what the unoptimised build's ${fmt(total / 1024, 1)} KB of code and data are (twiggy, by owner; generic code is counted where it was defined, e.g. alloc::vec::Vec<T>):`);
for (const [k, v] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  console.log(`    ${fmt(v / 1024, 1).padStart(8)} KB ${fmt((100 * v) / total, 1).padStart(5)}%  ${k}`);
}
process.exitCode = 0;
