#!/usr/bin/env node
// scripts/build.mjs owns the build: it installs whatever this machine lacks and turns the Rust
// crate into the wasm package in pkg/. `npm run build` and `npm test` call it; it is fast when
// nothing changed.
//
// Why this toolchain (see ../shared/TOOLCHAIN.md, measured on these machines):
// - wasm-bindgen-cli must be exactly the version of the `wasm-bindgen` crate (=0.2.130). It is
//   installed without `--locked`: the registry here lacks a version its lockfile pins.
// - wasm-opt comes from npm `binaryen@132.0.0`, never Debian's binaryen 108, whose output breaks
//   wasm-bindgen's table export (`WebAssembly.Table.set(): Argument 1 is invalid` at init).
// - No wasm-pack: it downloads binaryen from GitHub (unreachable here) or uses Debian's.
//
// Steps (each skipped when already done):
//   1. rustup target add wasm32-unknown-unknown
//   2. cargo install wasm-bindgen-cli --version 0.2.130 --no-default-features
//   3. npm ci (npm install when there is no lock) when node_modules/binaryen is missing
//   4. cargo build --release --target wasm32-unknown-unknown          (cargo is incremental)
//   5. wasm-bindgen --target web --out-dir pkg <crate>.wasm          } only when the cargo output
//   6. wasm-opt -Oz <features> pkg/scenario_lab_bg.wasm              } changed (hash stamp in target/)
//   7. print the final size, raw and gzipped
//   8. tsc -p tsconfig.types.json: the declarations of lib/ and node/ from their JSDoc
//   9. the web page's generated files: www/vendor/ (marked, dompurify, fflate, copied from
//      node_modules) and www/examples.json (the bundled examples); see scripts/web-assets.mjs
//
// Progress goes to stderr, one line per step.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWebAssets } from './web-assets.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WASM_BINDGEN_VERSION = '0.2.130';
const TARGET = 'wasm32-unknown-unknown';
const CRATE = 'scenario_lab';
// Honour CARGO_TARGET_DIR as cargo does (relative to the project root).
const TARGET_DIR = resolve(ROOT, process.env.CARGO_TARGET_DIR || 'target');
const CARGO_OUT = join(TARGET_DIR, TARGET, 'release', `${CRATE}.wasm`);
const PKG = join(ROOT, 'pkg');
const FINAL = join(PKG, `${CRATE}_bg.wasm`);
const STAMP = join(TARGET_DIR, 'scenario-lab-build.stamp');
const WASM_OPT = join(ROOT, 'node_modules', '.bin', 'wasm-opt');
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');

// The wasm features rustc 1.95 emits by default for wasm32-unknown-unknown that binaryen does not
// enable by default. Without them wasm-opt refuses the module ("... requires ... [--enable-...]").
// sign-ext and mutable-globals are on by default in binaryen 132.
const WASM_OPT_FLAGS = [
  '-Oz',
  '--enable-bulk-memory',
  '--enable-nontrapping-float-to-int',
  '--enable-reference-types',
  '--enable-multivalue',
];

const started = Date.now();
const log = (msg) => process.stderr.write(`build: ${msg}\n`);

/** Runs a command with inherited stdio; throws when it fails. */
function run(cmd, args, opts = {}) {
  log(`$ ${[cmd, ...args].join(' ').replaceAll(`${ROOT}/`, '')}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args[0] ?? ''} failed (exit ${r.status ?? r.signal})`);
}

/** Runs a command quietly and returns its stdout, or null when it cannot run or fails. */
function probe(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return r.status === 0 ? r.stdout : null;
}

function hashFile(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

function main() {
  // 1. The wasm target.
  const targets = probe('rustup', ['target', 'list', '--installed']);
  if (targets === null || !targets.split('\n').includes(TARGET)) {
    run('rustup', ['target', 'add', TARGET]);
  }

  // 2. wasm-bindgen-cli at exactly the crate's version (cargo puts it in ~/.cargo/bin).
  const wbVersion = probe('wasm-bindgen', ['--version']);
  if (wbVersion === null || !wbVersion.includes(WASM_BINDGEN_VERSION)) {
    log(`wasm-bindgen ${WASM_BINDGEN_VERSION} not found (${wbVersion?.trim() || 'none'}); installing (about 4 min)`);
    run('cargo', ['install', 'wasm-bindgen-cli', '--version', WASM_BINDGEN_VERSION, '--no-default-features']);
  }

  // 3. npm dev dependencies (wasm-opt from binaryen, playwright-core, the page's libraries).
  const devDeps = Object.keys(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).devDependencies ?? {});
  if (devDeps.some((d) => !existsSync(join(ROOT, 'node_modules', d, 'package.json')))) {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    run(npm, existsSync(join(ROOT, 'package-lock.json')) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund']);
  }

  // 4. The crate. Cargo decides what is stale.
  run('cargo', ['build', '--release', '--target', TARGET]);

  // 5-6. Bindings and size optimisation, only when cargo's output changed since the last build.
  const hash = hashFile(CARGO_OUT);
  const stamp = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : '';
  const pkgComplete = [`${CRATE}.js`, `${CRATE}.d.ts`, `${CRATE}_bg.wasm`].every((f) => existsSync(join(PKG, f)));
  if (stamp === hash && pkgComplete) {
    log('wasm unchanged since the last build; pkg/ is up to date');
  } else {
    run('wasm-bindgen', ['--target', 'web', '--out-dir', PKG, CARGO_OUT]);
    run(WASM_OPT, [...WASM_OPT_FLAGS, FINAL, '-o', FINAL]);
    mkdirSync(dirname(STAMP), { recursive: true });
    writeFileSync(STAMP, `${hash}\n`);
  }

  // 7. Size.
  const bytes = readFileSync(FINAL);
  const gz = gzipSync(bytes, { level: 9 }).length;
  log(`pkg/${CRATE}_bg.wasm: ${kb(bytes.length)} raw, ${kb(gz)} gzipped (${bytes.length} / ${gz} bytes)`);

  // 8. The declarations of the package's JavaScript, from its JSDoc (lib/**/*.d.ts, node/*.d.ts).
  // The last build's are removed first: tsc would read them in place of the .js they describe.
  for (const dir of ['lib', 'lib/storage', 'node']) {
    for (const name of readdirSync(join(ROOT, dir))) {
      if (name.endsWith('.d.ts') && `${dir}/${name}` !== 'lib/types.d.ts') rmSync(join(ROOT, dir, name));
    }
  }
  run(TSC, ['-p', 'tsconfig.types.json']);

  // 9. The web page's vendored libraries and bundled examples.
  for (const f of buildWebAssets()) log(`${f.file}: ${kb(f.bytes)} raw, ${kb(f.gzipped)} gzipped`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`build: error: ${e.message}\n`);
  process.exitCode = 1;
}
