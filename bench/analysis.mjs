// bench/analysis.mjs: how long `analyze --report` takes, and how much memory, against the
// original Python analyzer and against the cost of only reading the files (issue 15, row 1).
//
// Writes two synthetic trees of N runs (20 variations, 5 turns, 4 metrics, 3% failed runs):
// - ours (DESIGN.md §4): each run's scenario-state.json, metrics.json (final values, per-turn
//   values and the per-record list, as the engine writes them) and costs.json, pretty-printed;
// - the original's file contract (REFERENCE.md §5.1): each run's metrics.json {final_metrics},
//   costs.json {total_cost} and scenario-state.json {status, current_turn}, plus batch-config.yaml,
//   batch-summary.json and batch-costs.json (30,003 files for 10,000 runs).
// Then times, each under `/usr/bin/time -v` (wall and peak RSS) after one warm-up:
//   ours        `node node/cli.js analyze <tree> --report`, on both trees;
//   floor       `node bench/_floor.mjs <tree>`: a Node process that only reads and JSON-parses
//               every file the analysis reads (the cost no analyzer in Node can go under);
//   original    `python -m scenario_lab.batch.batch_analyzer <tree> --report`, the original's
//               V2 analyzer, when `--original <checkout of Itangalo/scenario-lab>` is given (its
//               code is not in this repository; it needs PyYAML: `--python <interpreter>`).
// Targets (issue 15): ours >= 10x the original on our own tree; ours <= 1.3x the floor on the
// original-format tree. Issue 5's: 10,000 runs within 100 MB; with `--large N` (100,000 takes
// minutes to write and 1.5 GB of disk), N runs within 5 s and at most 1.5x the small peak.
// Run: node bench/analysis.mjs [--small 10000] [--large 0] [--variations 20]
//        [--original DIR] [--python python3] [--keep]

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI, ROOT, cleanup, fmt, tempDir, verdict } from './_lib.mjs';

const { values } = parseArgs({
  options: {
    small: { type: 'string', default: '10000' },
    large: { type: 'string', default: '0' },
    original: { type: 'string' },
    python: { type: 'string', default: 'python3' },
    variations: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
  },
});
const VARIATIONS = Number(values.variations);
const SMALL = Number(values.small);
const LARGE = Number(values.large);
const TURNS = 5;
const METRICS = ['cooperation', 'tension', 'trust', 'data_sharing'];

if (!existsSync('/usr/bin/time')) {
  console.log('analysis: MISSED: /usr/bin/time is not installed (apt-get install time); nothing measured');
  process.exit(0);
}

/** A deterministic pseudo-random stream (the tree is the same on every machine). */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function writeTree(dir, runs) {
  const perVariation = Math.ceil(runs / VARIATIONS);
  const models = ['openai/gpt-4o-mini', 'openai/gpt-4o', 'anthropic/claude-3-haiku', 'anthropic/claude-3.5-sonnet'];
  const stats = {};
  const rand = rng(42);
  let written = 0;
  for (let v = 1; v <= VARIATIONS && written < runs; v++) {
    const model = models[(v - 1) % models.length];
    const turns = 3 + Math.floor((v - 1) / models.length);
    const mods = { actor_models: { council: model }, scenario_overrides: { turns } };
    const description = `council=${model.split('/').pop()}, turns=${turns}`;
    stats[v] = { description, num_runs: 0, successful_runs: 0, total_cost: 0, avg_cost_per_run: 0 };
    for (let r = 1; r <= perVariation && written < runs; r++, written++) {
      const id = `var-${String(v).padStart(3, '0')}-run-${String(r).padStart(3, '0')}`;
      const runDir = join(dir, 'runs', id);
      mkdirSync(runDir, { recursive: true });
      const failed = rand() < 0.03;
      const byTurn = {};
      const records = [];
      const level = {};
      for (const [k, m] of METRICS.entries()) level[m] = 3 + k + (v % 5) * 0.3;
      for (let t = 1; t <= TURNS; t++) {
        byTurn[t] = {};
        for (const m of METRICS) {
          level[m] = Math.round((level[m] + (rand() - 0.45) * 2) * 100) / 100;
          byTurn[t][m] = level[m];
          records.push({ actor: null, extraction: 'pattern', flag: null, name: m, raw: String(level[m]), turn: t, value: level[m] });
        }
      }
      const nanos = 1_000_000 + Math.floor(rand() * 9_000_000);
      writeFileSync(join(runDir, 'scenario-state.json'), JSON.stringify({
        actors: { council: { model, name: 'Council' }, vendor: { model: 'openai/gpt-4o-mini', name: 'Vendor' } },
        calls: 12, current_turn: failed ? 2 : TURNS, error: failed ? 't3/decision/vendor: HTTP 502' : null, halt_reason: null,
        scenario_name: 'Synthetic', scenario_path: 'scenarios/synthetic', seed: 1,
        spec: { branch: null, cost_limit: null, max_tokens: null, modifications: { ...mods, actor_overrides: {} }, scenario_dir: 'scenarios/synthetic', seed: 1 },
        status: failed ? 'failed' : 'completed', total_cost: nanos / 1e9, total_turns: TURNS, world_state_model: model,
      }, null, 2));
      writeFileSync(join(runDir, 'metrics.json'), JSON.stringify({
        final_metrics: byTurn[TURNS], flagged: 0, metrics_by_turn: byTurn, records, scenario: 'Synthetic',
      }, null, 2));
      writeFileSync(join(runDir, 'costs.json'), JSON.stringify({
        by_actor: { council: nanos / 2e9, vendor: nanos / 2e9 }, by_model: { [model]: nanos / 1e9 }, by_role: { actor: nanos / 1e9 },
        by_turn: {}, calls: 12, completion_tokens: 3000, prompt_tokens: 9000, total_cost: nanos / 1e9, total_cost_nanos: nanos, unknown_price_calls: 0,
      }, null, 2));
      stats[v].num_runs++;
    }
  }
  writeFileSync(join(dir, 'batch-config.yaml'), `experiment_name: synthetic-${runs}\nbase_scenario: scenarios/synthetic\nruns_per_variation: ${perVariation}\nsuccess: "cooperation >= 4"\n`);
  writeFileSync(join(dir, 'batch-costs.json'), JSON.stringify({ run_costs: [], summary: {}, variation_statistics: stats }));
}

/** The original's file contract (REFERENCE.md §5.1), with the same runs as `writeTree`. */
function writeOriginalTree(dir, runs) {
  const perVariation = Math.ceil(runs / VARIATIONS);
  const rand = rng(42);
  let written = 0;
  for (let v = 1; v <= VARIATIONS && written < runs; v++) {
    for (let r = 1; r <= perVariation && written < runs; r++, written++) {
      const runDir = join(dir, 'runs', `var-${String(v).padStart(3, '0')}-run-${String(r).padStart(3, '0')}`);
      mkdirSync(runDir, { recursive: true });
      const failed = rand() < 0.03;
      const final = Object.fromEntries(METRICS.map((m, k) => [m, Math.round((3 + k + (v % 5) * 0.3 + (rand() - 0.45) * 4) * 100) / 100]));
      writeFileSync(join(runDir, 'metrics.json'), JSON.stringify({ final_metrics: final }, null, 2));
      writeFileSync(join(runDir, 'costs.json'), JSON.stringify({ total_cost: Math.round(rand() * 1e6) / 1e8 }, null, 2));
      writeFileSync(join(runDir, 'scenario-state.json'), JSON.stringify({ status: failed ? 'failed' : 'completed', current_turn: failed ? 2 : TURNS }, null, 2));
    }
  }
  writeFileSync(join(dir, 'batch-config.yaml'), `experiment_name: original-${runs}\nbase_scenario: scenarios/synthetic\nruns_per_variation: ${perVariation}\n`);
  writeFileSync(join(dir, 'batch-summary.json'), JSON.stringify({ experiment_name: `original-${runs}`, total_runs: runs }, null, 2));
  writeFileSync(join(dir, 'batch-costs.json'), JSON.stringify({ total_cost: 0 }, null, 2));
}

const COMMANDS = {
  ours: (dir) => [process.execPath, CLI, 'analyze', dir, '--report'],
  floor: (dir) => [process.execPath, join(ROOT, 'bench', '_floor.mjs'), dir],
  original: (dir) => [values.python, '-m', 'scenario_lab.batch.batch_analyzer', dir, '--report'],
};

/** Runs one analyzer (a key of COMMANDS) on a tree under `/usr/bin/time -v`. */
function timed(which, dir) {
  const [cmd, ...args] = COMMANDS[which](dir);
  const env = { ...process.env, NO_COLOR: '1', ...(which === 'original' ? { PYTHONPATH: values.original } : {}) };
  return new Promise((done) => {
    const child = spawn('/usr/bin/time', ['-v', cmd, ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(stderr);
      const wallS = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : NaN;
      done({ code, stdout, stderr, maxRssKb: rss ? Number(rss[1]) : null, wallS });
    });
  });
}

/** Times `which` on `dir` once to warm the page cache, then once measured; prints the line. */
async function measure(which, dir, label) {
  await timed(which, dir);
  const r = await timed(which, dir);
  const ok = r.code === 0 && (which !== 'ours' || r.stdout.startsWith('# Batch Analysis Report'));
  console.log(`  ${label.padEnd(34)} wall=${fmt(r.wallS)}s peak_rss=${fmt(r.maxRssKb / 1024, 1)} MiB${ok ? '' : ` WARNING: exit ${r.code}: ${r.stderr.slice(-300)}`}`);
  return r;
}

const root = tempDir('analysis');
try {
  console.log(`analysis: ${VARIATIONS} variations, ${TURNS} turns, ${METRICS.length} metrics, 3% failed runs; each command under /usr/bin/time -v, after one warm-up`);
  const ourTree = join(root, `ours-${SMALL}`);
  const originalTree = join(root, `original-${SMALL}`);
  writeTree(ourTree, SMALL);
  writeOriginalTree(originalTree, SMALL);
  const haveOriginal = values.original && existsSync(join(values.original, 'scenario_lab', 'batch', 'batch_analyzer.py'));
  if (values.original && !haveOriginal) console.log(`  (--original ${values.original} holds no scenario_lab/batch/batch_analyzer.py: the original is not measured)`);

  console.log(`our tree, ${SMALL} runs (${3 * SMALL + 2} files):`);
  const ours = await measure('ours', ourTree, 'ours: analyze --report');
  const oursFloor = await measure('floor', ourTree, 'floor: read and parse every file');
  const original = haveOriginal ? await measure('original', ourTree, 'original: batch_analyzer --report') : null;

  console.log(`original-format tree, ${SMALL} runs (${3 * SMALL + 3} files):`);
  const oursOnOriginal = await measure('ours', originalTree, 'ours: analyze --report');
  const floor = await measure('floor', originalTree, 'floor: read and parse every file');
  const originalOnOriginal = haveOriginal ? await measure('original', originalTree, 'original: batch_analyzer --report') : null;

  if (original) {
    const speedup = original.wallS / ours.wallS;
    console.log(`our tree: the original takes ${fmt(speedup)}x our time (target >= 10x) ${verdict(speedup >= 10)}; ours is ${fmt(ours.wallS / oursFloor.wallS)}x its floor`);
  } else {
    console.log('our tree: the original was not measured (pass --original <checkout of Itangalo/scenario-lab>); target: it takes >= 10x our time');
  }
  const overFloor = oursOnOriginal.wallS / floor.wallS;
  console.log(`original-format tree: ours is ${fmt(overFloor)}x the read-and-parse floor (target <= 1.3x) ${verdict(overFloor <= 1.3)}${originalOnOriginal ? `; the original takes ${fmt(originalOnOriginal.wallS / oursOnOriginal.wallS)}x our time` : ''}`);
  console.log(`${SMALL} runs, our tree: peak ${fmt(ours.maxRssKb / 1024, 1)} MiB (target <= 100 MB) ${verdict(ours.maxRssKb * 1024 <= 100e6)}`);

  if (LARGE > 0) {
    const largeTree = join(root, `ours-${LARGE}`);
    writeTree(largeTree, LARGE);
    console.log(`our tree, ${LARGE} runs:`);
    const large = await measure('ours', largeTree, 'ours: analyze --report');
    const ratio = large.maxRssKb / ours.maxRssKb;
    console.log(`${LARGE} runs: wall ${fmt(large.wallS)}s (target <= 5 s) ${verdict(large.wallS <= 5)}; peak ratio ${LARGE}/${SMALL}=${fmt(ratio)} (target <= 1.5) ${verdict(ratio <= 1.5)}`);
  }
} finally {
  if (values.keep) console.log(`trees kept in ${root}`);
  else cleanup(root);
}
process.exitCode = 0;
