// bench/analysis.mjs: how long `analyze --report` takes, and how much memory, as a batch grows.
//
// Writes a synthetic output tree in our format (DESIGN.md §4): V variations x R runs, 5 turns,
// 4 metrics, two varied factors; each run has scenario-state.json, metrics.json (final values,
// per-turn values and the per-record list, as the engine writes them) and costs.json. Then times
// `node node/cli.js analyze <dir> --report` under `/usr/bin/time -v` (wall time and "Maximum
// resident set size"), for 10,000 runs and for 100,000 runs.
// Baseline: the targets of issue 5 on this machine: 10,000 runs in at most 0.5 s with at most
// 100 MB peak; 100,000 runs in at most 5 s with a peak at most 1.5x the 10,000-run peak.
// Run: node bench/analysis.mjs [--small 10000] [--large 100000] [--variations 20] [--keep]

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI, ROOT, cleanup, fmt, tempDir, verdict } from './_lib.mjs';

const { values } = parseArgs({
  options: {
    small: { type: 'string', default: '10000' },
    large: { type: 'string', default: '100000' },
    variations: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
  },
});
const VARIATIONS = Number(values.variations);
const SIZES = [Number(values.small), Number(values.large)];
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

function analyze(dir) {
  return new Promise((done) => {
    const child = spawn('/usr/bin/time', ['-v', process.execPath, CLI, 'analyze', dir, '--report'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
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

const root = tempDir('analysis');
const results = [];
try {
  console.log(`analysis: ${VARIATIONS} variations, ${TURNS} turns, ${METRICS.length} metrics, 3% failed runs; \`analyze --report\` under /usr/bin/time -v`);
  for (const runs of SIZES) {
    const dir = join(root, `tree-${runs}`);
    const t0 = Date.now();
    writeTree(dir, runs);
    const writeS = (Date.now() - t0) / 1000;
    // One warm-up, so that both sizes are timed with the files in the page cache.
    await analyze(dir);
    const r = await analyze(dir);
    const ok = r.code === 0 && r.stdout.startsWith('# Batch Analysis Report');
    results.push(r);
    console.log(`runs=${runs} wall=${fmt(r.wallS)}s peak_rss=${fmt(r.maxRssKb / 1024, 1)} MiB (tree written in ${fmt(writeS, 1)}s)${ok ? '' : ` WARNING: exit ${r.code}: ${r.stderr.slice(-400)}`}`);
    if (!values.keep) cleanup(dir);
  }
  const [small, large] = results;
  console.log(`${SIZES[0]} runs: wall ${fmt(small.wallS)}s target<=0.5s ${verdict(small.wallS <= 0.5)}; peak ${fmt(small.maxRssKb / 1024, 1)} MiB target<=100 MB ${verdict(small.maxRssKb * 1024 <= 100e6)}`);
  const ratio = large.maxRssKb / small.maxRssKb;
  console.log(`${SIZES[1]} runs: wall ${fmt(large.wallS)}s target<=5s ${verdict(large.wallS <= 5)}; peak ratio ${SIZES[1]}/${SIZES[0]}=${fmt(ratio)} target<=1.5 ${verdict(ratio <= 1.5)}`);
} finally {
  if (!values.keep) cleanup(root);
}
process.exitCode = 0;
