#!/usr/bin/env node
// scripts/fuzz.mjs builds the coverage-guided fuzz targets of fuzz/ (issue 14, "hostile inputs")
// and runs each under libFuzzer for a while, then says per target how fast it ran, what coverage
// it reached, how big its corpus is and what crashed. It exits non-zero when anything crashed.
//
//   node scripts/fuzz.mjs                      every target, 600 s each
//   node scripts/fuzz.mjs --seconds 12 yaml    only `yaml`, 12 s (`npm test`'s step runs 12 s each)
//   node scripts/fuzz.mjs --no-build ...       run what was built last
//
// Targets: yaml (yaml::parse), batch_config (config::load_batch), scenario
// (config::load_scenario; input byte 0x01 first = an actor file), success (the success
// condition parser), call_log (the call-log readers). Each one aborts when a reader holds more
// heap than 50 x its input + 8 MiB (fuzz/src/lib.rs).
//
// Why it builds as it does: libFuzzer needs SanitizerCoverage in the code it fuzzes. Stable rustc
// has it through `-Cpasses=sancov-module` and LLVM options (no nightly, no cargo-fuzz), given in
// RUSTFLAGS with an explicit `--target`, so that build scripts and proc macros are built without
// it (they would not link: libFuzzer's hooks are only in the fuzz binaries). libfuzzer-sys builds
// libFuzzer's C++ with the machine's g++. The build has its own target folder
// ($CARGO_TARGET_DIR/fuzz, or fuzz/target), so these flags never invalidate the main build.
//
// Where things go, under that folder: seeds/<target>/ (gathered anew each run from scenarios/,
// experiments/, examples/, tests/fixtures/ and ../shared/compat), corpus/<target>/ (what
// libFuzzer found, kept between runs), logs/<target>.log. Crash inputs go to fuzz/artifacts/
// (git-ignored); the summary says how to reproduce each one.

import { spawnSync } from 'node:child_process';
import {
  existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, openSync, closeSync,
} from 'node:fs';
import { dirname, join, relative, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FUZZ = join(ROOT, 'fuzz');
const OUT = process.env.CARGO_TARGET_DIR ? join(process.env.CARGO_TARGET_DIR, 'fuzz') : join(FUZZ, 'target');
const ARTIFACTS = join(FUZZ, 'artifacts');
const COMPAT = join(ROOT, '..', 'shared', 'compat');

// SanitizerCoverage as cargo-fuzz sets it, plus the checks a release build leaves out.
const RUSTFLAGS = [
  '-Cpasses=sancov-module',
  '-Cllvm-args=-sanitizer-coverage-level=4',
  '-Cllvm-args=-sanitizer-coverage-inline-8bit-counters',
  '-Cllvm-args=-sanitizer-coverage-pc-table',
  '-Cllvm-args=-sanitizer-coverage-trace-compares',
  '--cfg', 'fuzzing',
  '-Cdebug-assertions',
  '-Coverflow-checks',
].join(' ');

// libFuzzer's limits. One input may take 10 s before it counts as a hang (the readers take
// microseconds; a debug-checked deep nest a few ms). The memory bound itself is checked by the
// targets' allocator (50 x input + 8 MiB, about 8.4 MiB at the longest input); the RSS limit
// only catches what escapes it (libFuzzer's own corpus and a leak over a long run).
const LIBFUZZER = ['-timeout=10', '-rss_limit_mb=1024', '-max_len=8192', '-print_final_stats=1'];

const TARGETS = {
  yaml: { dict: 'yaml.dict', seeds: yamlSeeds },
  batch_config: { dict: 'yaml.dict', seeds: yamlSeeds },
  scenario: { dict: 'yaml.dict', seeds: scenarioSeeds },
  success: { dict: 'success.dict', seeds: successSeeds },
  call_log: { dict: 'call_log.dict', seeds: callLogSeeds },
};

// --- arguments

const argv = process.argv.slice(2);
let seconds = 600;
let build = true;
const names = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--seconds') seconds = Number(argv[++i]);
  else if (a.startsWith('--seconds=')) seconds = Number(a.slice('--seconds='.length));
  else if (a === '--no-build') build = false;
  else if (a === '-h' || a === '--help') {
    process.stdout.write(`usage: node scripts/fuzz.mjs [--seconds N] [--no-build] [target ...]\ntargets: ${Object.keys(TARGETS).join(', ')}\n`);
    process.exit(0);
  } else names.push(a);
}
if (!Number.isFinite(seconds) || seconds <= 0) fail(`--seconds needs a positive number`);
const unknown = names.filter((n) => !(n in TARGETS));
if (unknown.length) fail(`no target named ${unknown.join(', ')}; targets: ${Object.keys(TARGETS).join(', ')}`);
const selected = names.length ? names : Object.keys(TARGETS);

function fail(message) {
  process.stderr.write(`fuzz: ${message}\n`);
  process.exit(2);
}

// --- build

const host = /^host: (.*)$/m.exec(spawnSync('rustc', ['-vV'], { encoding: 'utf8' }).stdout ?? '')?.[1];
if (!host) fail('cannot tell the host target from `rustc -vV`');
const BIN = join(OUT, host, 'release');

if (build) {
  process.stderr.write(`fuzz: building ${selected.join(', ')} (target folder ${OUT})\n`);
  const t0 = Date.now();
  const r = spawnSync('cargo', ['build', '--release', '--target', host, ...selected.flatMap((t) => ['--bin', t])], {
    cwd: FUZZ,
    stdio: 'inherit',
    env: { ...process.env, CARGO_TARGET_DIR: OUT, RUSTFLAGS },
  });
  if (r.status !== 0) fail(`the build failed (${r.error?.message ?? `exit ${r.status}`})`);
  process.stderr.write(`fuzz: built in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

// --- seeds

/** Every file under `dir` (recursively) whose name passes `keep`. */
function files(dir, keep) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'target' && e.name !== 'runs') out.push(...files(p, keep));
    } else if (keep(e.name, p)) out.push(p);
  }
  return out;
}

const SEED_DIRS = [...['scenarios', 'experiments', 'examples', 'tests/fixtures'].map((d) => join(ROOT, d)), COMPAT];
const isYaml = (n) => n.endsWith('.yaml') || n.endsWith('.yml');
const allYaml = () => SEED_DIRS.flatMap((d) => files(d, isYaml));

function yamlSeeds() {
  return allYaml().map((p) => [p, readFileSync(p)]);
}

/** Scenario files as they are; actor files behind the 0x01 byte that makes them one. */
function scenarioSeeds() {
  return allYaml().map((p) => {
    const body = readFileSync(p);
    return basename(dirname(p)) === 'actors' ? [p, Buffer.concat([Buffer.from([1]), body])] : [p, body];
  });
}

function successSeeds() {
  const found = [];
  for (const p of allYaml()) {
    for (const m of readFileSync(p, 'utf8').matchAll(/^\s*success:\s*["']?(.*?)["']?\s*$/gm)) found.push([p, Buffer.from(m[1])]);
  }
  const made = ['cooperation_level >= 6 and tension < 4', 'a > 1 or b <= -2.5 and c == 3', 'x != 0', 'deal_reached == 1'];
  return [...found, ...made.map((s, i) => [`made-${i}`, Buffer.from(s)])];
}

function callLogSeeds() {
  const logs = SEED_DIRS.flatMap((d) => files(d, (n) => n.endsWith('.jsonl'))).map((p) => [p, readFileSync(p)]);
  // A made-up log too: no fixture holds one, and the readers' interesting paths need a whole line.
  const call = (turn, role, extra = {}) => JSON.stringify({
    key: `t${turn}-${role}`, turn, role, actor: role === 'actor' ? 'council' : null, model: 'builtin/simulator',
    provider: 'builtin', prompt_tokens: 120, completion_tokens: 40, cost_nanos: 0, cost_source: 'free',
    latency_ms: 1.5, generation_id: null, request_hash: 'abc123', attempts: 1, timeouts: 0, max_tokens: 512,
    finish_reason: 'stop', reply: 'Data sharing level: 4', ...extra,
  });
  const made = [
    [call(1, 'actor'), call(1, 'world'), call(1, 'metric', { finish_reason: 'length', cached_tokens: 10 })].join('\n') + '\n',
    `${call(2, 'actor', { cache_saved_nanos: -5, batch_saved_nanos: 7, batch_job: 'job-1' })}\n{"key":"torn`,
  ];
  return [...logs, ...made.map((s, i) => [`made-${i}.jsonl`, Buffer.from(s)])];
}

// --- run

function count(dir) {
  if (!existsSync(dir)) return { files: 0, bytes: 0 };
  const names = readdirSync(dir);
  return { files: names.length, bytes: names.reduce((n, f) => n + statSync(join(dir, f)).size, 0) };
}

const results = [];
for (const name of selected) {
  const t = TARGETS[name];
  const seeds = join(OUT, 'seeds', name);
  const corpus = join(OUT, 'corpus', name);
  const logs = join(OUT, 'logs');
  const crashes = join(ARTIFACTS, name);
  rmSync(seeds, { recursive: true, force: true });
  for (const d of [seeds, corpus, logs, crashes]) mkdirSync(d, { recursive: true });
  const seedList = t.seeds();
  seedList.forEach(([from, body], i) => writeFileSync(join(seeds, `${String(i).padStart(4, '0')}-${basename(from)}`), body));

  const log = join(logs, `${name}.log`);
  const before = new Set(readdirSync(crashes));
  const args = [
    ...LIBFUZZER,
    `-max_total_time=${seconds}`,
    `-dict=${join(FUZZ, t.dict)}`,
    `-artifact_prefix=${crashes}/`,
    corpus,
    seeds,
  ];
  process.stderr.write(`\nfuzz: ${name}: ${seedList.length} seeds, ${seconds} s (log ${log})\n`);
  const fd = openSync(log, 'w');
  // libFuzzer stops itself at -max_total_time; the outer limit is for a hang it does not see.
  const r = spawnSync(join(BIN, name), args, { stdio: ['ignore', fd, fd], timeout: (seconds + 120) * 1000, env: process.env });
  closeSync(fd);
  const text = readFileSync(log, 'utf8');

  const stats = text.split('\n').filter((l) => /^#\d+\s/.test(l) && l.includes('cov:')).at(-1) ?? '';
  const field = (re) => re.exec(stats)?.[1];
  const executed = /stat::number_of_executed_units:\s*(\d+)/.exec(text)?.[1] ?? field(/^#(\d+)/);
  const perSec = /stat::average_exec_per_sec:\s*(\d+)/.exec(text)?.[1] ?? field(/exec\/s: (\d+)/);
  const found = readdirSync(crashes).filter((f) => !before.has(f)).map((f) => join(crashes, f));
  const crashed = r.status !== 0 || found.length > 0;
  const c = count(corpus);
  results.push({
    name,
    execs: executed ?? '?',
    perSec: perSec ?? '?',
    cov: field(/cov: (\d+)/) ?? '?',
    ft: field(/ft: (\d+)/) ?? '?',
    // libFuzzer's own count (units it keeps), then the folder's (it adds, never removes).
    corpus: `${field(/corp: (\d+\/\w+)/) ?? '?'} (folder: ${c.files} files, ${(c.bytes / 1024).toFixed(0)} KiB)`,
    crashed,
    why: crashed ? (/memory bound broken[^\n]*/.exec(text)?.[0] ?? /==\d+== ERROR: libFuzzer: ([^\n]*)/.exec(text)?.[1] ?? `exit ${r.status ?? r.signal}`) : '',
    found,
  });
  if (crashed) {
    const tail = text.split('\n').filter((l) => !/^#\d+\s/.test(l)).slice(-25).join('\n');
    process.stderr.write(`fuzz: ${name} CRASHED; the end of its log:\n${tail}\n`);
  }
}

// --- summary

process.stderr.write('\n=== fuzz summary\n');
process.stderr.write(`${'target'.padEnd(13)} ${'execs'.padStart(11)} ${'execs/s'.padStart(8)} ${'cov'.padStart(6)} ${'ft'.padStart(7)}  corpus\n`);
for (const r of results) {
  process.stderr.write(`${r.name.padEnd(13)} ${String(r.execs).padStart(11)} ${String(r.perSec).padStart(8)} ${String(r.cov).padStart(6)} ${String(r.ft).padStart(7)}  ${r.corpus}${r.crashed ? `  CRASH: ${r.why}` : ''}\n`);
}
const crashedAll = results.filter((r) => r.crashed);
for (const r of crashedAll) {
  for (const f of r.found) {
    process.stderr.write(`\ncrash input: ${relative(ROOT, f)}\n  reproduce: ${join(BIN, r.name)} ${f}\n`);
  }
  if (!r.found.length) process.stderr.write(`\n${r.name} failed without a crash input; see ${join(OUT, 'logs', `${r.name}.log`)}\n`);
}
if (crashedAll.length) {
  process.stderr.write('\nTurn each crash input into a test in tests/fuzz_regressions.rs (see its top comment).\n');
}
process.stderr.write(`${crashedAll.length ? `FAILED: ${crashedAll.length} target(s) crashed` : 'no crash'}\n`);
process.exitCode = crashedAll.length ? 1 : 0;
