// bench/prompt-cache.mjs: how much of the prompts a provider's prefix cache serves, and the money
// it saves (the static-first prompt layout, src/engine/prompts.rs).
//
// Runs scenarios/city-ai-rollout (4 actors, bilateral talks and coalitions, LLM metrics, 3
// quality checks, a running summary) through the real CLI against the fake server of
// tests/fake-llm/server.mjs, whose prefix cache follows OpenAI's rule (a prompt's longest common
// prefix with an earlier prompt to the same model, nothing below 1,024 tokens, then 128-token
// blocks) and whose prices bill cached tokens at `cacheReadFactor` of the prompt price. The
// figures are the server's own (`stats().calls[].cachedTokens`, `stats().cache`); this script
// only sorts them by turn, using each run's call log (a run's turns are sequential, and the
// batch runs one run at a time, so the server's calls split by the logs' per-turn counts).
//
// Two measurements: one run, then a 4-run batch of the same scenario (one variation: its runs
// share their system messages, and their whole first turn). Baseline: the share before the
// static-first layout, measured by this script on a build of it (--cli): 0.45 from turn 2 on
// for one run, 0.53 for the batch. Target: >= 0.50 from turn 2 on.
// Run: node bench/prompt-cache.mjs [--turns 10] [--runs 4] [--min-tokens 1024]
//        [--block-tokens 128] [--cli path/to/another/build/node/cli.js]
// (--min-tokens 0 --block-tokens 1: an ideal cache, every common prefix served.)

import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI, ROOT, cleanup, fmt, startFakeLlm, tempDir, verdict } from './_lib.mjs';

const { values } = parseArgs({
  options: {
    turns: { type: 'string', default: '10' },
    runs: { type: 'string', default: '4' },
    'min-tokens': { type: 'string', default: '1024' },
    'block-tokens': { type: 'string', default: '128' },
    cli: { type: 'string', default: CLI },
  },
});
const TURNS = Number(values.turns);
const RUNS = Number(values.runs);
const CACHE = { minTokens: Number(values['min-tokens']), blockTokens: Number(values['block-tokens']) };
const SCENARIO = join(ROOT, 'scenarios', 'city-ai-rollout');
const PRICE = { prompt: 2.5, completion: 10 }; // USD per million tokens, every model
const CACHE_READ = 0.5; // OpenAI's discount on cached tokens (Anthropic's reads are 0.1)
const TARGET = 0.5;

/** Runs the CLI (cwd: the project root) and resolves to {code, stdout, stderr}. */
function cli(args) {
  const env = { ...process.env, NO_COLOR: '1', SCENARIO_LAB_API_KEY: 'bench' };
  delete env.OPENROUTER_API_KEY; // never fetch real prices or send to a real endpoint
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [values.cli, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A call log's turn of every call, and its first generation id's number (when it started). */
function readLog(path) {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  const gen = lines.map((l) => Number(/(\d+)$/.exec(l.generation_id ?? '')?.[1] ?? Infinity));
  return { turns: lines.map((l) => l.turn), first: Math.min(...gen) };
}

/** Every llm-calls.jsonl under `dir`. */
function logsUnder(dir) {
  return readdirSync(dir, { recursive: true })
    .filter((p) => String(p).endsWith('llm-calls.jsonl'))
    .map((p) => join(dir, String(p)));
}

/**
 * The server's answered calls of `logs`' runs (sequential, in their start order), each with its
 * turn; null when the counts disagree (a retry, a run in parallel).
 */
function byTurn(calls, logs) {
  const runs = logs.map(readLog).sort((a, b) => a.first - b.first);
  const turns = runs.flatMap((r) => [...r.turns].sort((a, b) => a - b));
  const answered = calls.filter((c) => c.outcome === 'answered');
  if (turns.length !== answered.length) return null;
  return answered.map((c, i) => ({ ...c, turn: turns[i] }));
}

/** Prompt and cached tokens, and cost, of `calls`. */
function sum(calls) {
  const s = { calls: calls.length, prompt: 0, cached: 0, completion: 0, cost: 0 };
  for (const c of calls) {
    s.prompt += c.promptTokens;
    s.cached += c.cachedTokens ?? 0;
    s.completion += c.completionTokens;
    s.cost += c.cost ?? 0;
  }
  return s;
}

const int = (n) => Math.round(n).toLocaleString('en-US');

/** Prints one measurement from the server's stats and the runs' call logs. */
function report(name, stats, logs) {
  const calls = byTurn(stats.calls, logs);
  const all = stats.cache;
  const share = all.cachedTokens / all.promptTokens;
  const billed = sum(stats.calls).cost;
  // What the cached tokens would have cost at the full prompt price.
  const saved = (all.cachedTokens * PRICE.prompt * (1 - CACHE_READ)) / 1e6;
  const unCached = billed + saved;
  console.log(`${name}: ${all.requests} calls, ${int(all.promptTokens)} prompt tokens, ${int(all.cachedTokens)} cached: overall ${fmt(share, 3)}`);
  if (!calls) {
    console.log(`  MISSED: the server's calls do not match the runs' call logs (${stats.calls.length} calls); no per-turn figures`);
    return null;
  }
  const late = sum(calls.filter((c) => c.turn >= 2));
  const lateShare = late.cached / late.prompt;
  const perTurn = [...new Set(calls.map((c) => c.turn))].sort((a, b) => a - b).map((t) => {
    const s = sum(calls.filter((c) => c.turn === t));
    return `t${t} ${fmt(s.cached / s.prompt, 2)}`;
  });
  console.log(`  per turn (cached / prompt tokens): ${perTurn.join('  ')}`);
  console.log(`  from turn 2 on: ${int(late.prompt)} prompt tokens, ${int(late.cached)} cached: share ${fmt(lateShare, 3)}, ratio to target ${fmt(lateShare / TARGET, 2)}  ${verdict(lateShare >= TARGET)}`);
  console.log(`  money: billed $${fmt(billed, 4)}, $${fmt(unCached, 4)} with no cache: the cache saved $${fmt(saved, 4)} (${fmt((saved / unCached) * 100, 1)}%); at Anthropic's 0.1x reads it would save $${fmt((all.cachedTokens * PRICE.prompt * 0.9) / 1e6, 4)}`);
  return lateShare;
}

// The models the scenario names, for the server's model list (a batch checks its ids there).
const MODELS = [...new Set(readdirSync(SCENARIO, { recursive: true })
  .filter((p) => String(p).endsWith('.yaml'))
  .flatMap((p) => [...readFileSync(join(SCENARIO, String(p)), 'utf8').matchAll(/model:\s*"?([\w./:-]+)"?/g)].map((m) => m[1])))];

const dir = tempDir('prompt-cache');
const srv = await startFakeLlm({ port: 0, pricePerMillion: PRICE, cacheReadFactor: CACHE_READ, promptCache: CACHE, models: MODELS });
try {
  console.log(`prompt-cache: ${SCENARIO.slice(ROOT.length + 1)}, ${TURNS} turns, every model on the fake server (${values.cli === CLI ? 'this build' : values.cli})`);
  console.log(`cache rule: nothing below ${CACHE.minTokens} tokens, then ${CACHE.blockTokens}-token blocks, per model; $${PRICE.prompt} / $${PRICE.completion} per million, cached tokens at ${CACHE_READ}x`);
  console.log(`baseline: before the static-first layout, 0.45 of the prompt tokens cached from turn 2 on (one run), 0.53 (batch); target: >= ${TARGET}`);

  const out = join(dir, 'run');
  const one = await cli(['scenario', SCENARIO, '--output', out, '--turns', String(TURNS), '--seed', '1', '--base-url', srv.url]);
  if (one.code !== 0) throw new Error(`the run exited ${one.code}\n${one.stderr.slice(-2000)}`);
  report('one run', srv.stats(), [join(out, 'llm-calls.jsonl')]);

  srv.reset();
  const config = join(dir, 'batch.yaml');
  writeFileSync(config, `experiment_name: prompt-cache
base_scenario: ${JSON.stringify(SCENARIO)}
runs_per_variation: ${RUNS}
max_parallel: 1
output_dir: ${JSON.stringify(join(dir, 'batch'))}
save_individual_runs: true
aggregate_metrics: false
variations:
  - type: scenario_parameter
    parameter: turns
    values: [${TURNS}]
`);
  const batch = await cli(['run', config, '--json', '--no-progress', '--base-url', srv.url]);
  if (batch.code !== 0) throw new Error(`the batch exited ${batch.code}\n${batch.stderr.slice(-2000)}`);
  report(`${RUNS}-run batch (one variation, one run at a time)`, srv.stats(), logsUnder(join(dir, 'batch')));
} finally {
  await srv.close();
  cleanup(dir);
}
