// What batch execution and prompt caching save (issue 12), against the fake server: the same
// batch of scenarios/city-ai-rollout, realtime and then in lock-step batch mode with the same
// seed, priced by the fake server's per-model prices (its bill, usage.cost, realtime; our price
// book at the batch price in batch mode). The fake server's prefix cache follows OpenAI's rule
// (1,024 tokens or more, in 128-token blocks) and bills cached tokens at half the prompt price.
//
// Prints, for each mode: calls, cost, the share of prompt tokens served from the cache (from
// turn 2 on, and overall) and what it saved; then the batch/realtime cost ratio (target <= 0.55),
// the provider round trips (rounds of jobs: one round a phase, whatever the number of runs) and
// the jobs submitted. Baseline: the realtime batch.
//
//   node bench/paying-less.mjs [runs=100] [turns=10]

import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startFakeLlm } from './_lib.mjs';
import { runCli } from '../tests/node/run-cli.mjs';

const runs = Number(process.argv[2] ?? 100);
const turns = Number(process.argv[3] ?? 10);
// USD per million prompt / completion tokens, the same for the fake's bill and our config.
const PRICE = { prompt: 1, completion: 4 };

const tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-paying-less-'));
const scenario = join(tmp, 'scenario');
cpSync(join(ROOT, 'scenarios', 'city-ai-rollout'), scenario, { recursive: true });
const scenarioText = readFileSync(join(scenario, 'scenario.yaml'), 'utf8').replace(/^turns: \d+/m, `turns: ${turns}`);
writeFileSync(join(scenario, 'scenario.yaml'), scenarioText);
const models = new Set();
for (const f of ['scenario.yaml', 'metrics.yaml', 'validation-rules.yaml', ...readdirSync(join(scenario, 'actors')).map((a) => `actors/${a}`)]) {
  for (const m of readFileSync(join(scenario, f), 'utf8').matchAll(/(?:model|llm_model|validation_model|world_state_model): "([^"]+)"/g)) models.add(m[1]);
}
const prices = Object.fromEntries([...models].map((m) => [m, PRICE]));

const srv = await startFakeLlm({ port: 0, models: [...models], pricePerMillion: prices, batchDelayMs: 20 });

function config(name, execution) {
  const out = join(tmp, name);
  const path = join(tmp, `${name}.yaml`);
  const priceLines = [...models].map((m) => `  "${m}": {prompt: ${PRICE.prompt}, completion: ${PRICE.completion}, cache_read: ${PRICE.prompt / 2}}`).join('\n');
  writeFileSync(path, `experiment_name: ${name}\nbase_scenario: ${scenario}\nruns_per_variation: ${runs}\nmax_parallel: 8\n` +
    `execution: ${execution}\noutput_dir: ${out}\naggregate_metrics: false\nprices:\n${priceLines}\n`);
  return { path, out };
}

function figures(out) {
  let cost = 0;
  let calls = 0;
  const later = { prompt: 0, cached: 0 };
  const all = { prompt: 0, cached: 0 };
  let cacheSaved = 0;
  for (const id of readdirSync(join(out, 'runs'))) {
    for (const line of readFileSync(join(out, 'runs', id, 'llm-calls.jsonl'), 'utf8').trim().split('\n')) {
      const c = JSON.parse(line);
      calls++;
      cost += c.cost_nanos / 1e9;
      cacheSaved += (c.cache_saved_nanos ?? 0) / 1e9;
      all.prompt += c.prompt_tokens;
      all.cached += c.cached_tokens ?? 0;
      if (c.turn >= 2) {
        later.prompt += c.prompt_tokens;
        later.cached += c.cached_tokens ?? 0;
      }
    }
  }
  return { cost, calls, later: later.cached / later.prompt, all: all.cached / all.prompt, cacheSaved };
}

const line = (name, f, secs) => console.log(`${name.padEnd(9)} ${String(f.calls).padStart(6)} calls  $${f.cost.toFixed(4)}  cached ${(100 * f.later).toFixed(1)}% from turn 2 (${(100 * f.all).toFixed(1)}% overall), cache saved $${f.cacheSaved.toFixed(4)}  ${secs.toFixed(1)} s`);

const env = { SCENARIO_LAB_API_KEY: 'bench' };
const rt = config('realtime', 'realtime');
let t0 = Date.now();
let r = await runCli(['run', rt.path, '--base-url', srv.url], { env });
if (r.code !== 0) throw new Error(`realtime batch failed: ${r.stderr}`);
const rtSecs = (Date.now() - t0) / 1000;
const rtFig = figures(rt.out);

// The same seed: the batch-mode batch asks exactly what the realtime one asked.
const bt = config('batch', 'batch');
// (Edited as text: a JSON round trip in JavaScript would turn the fingerprint's 10.0 into 10.)
const stateText = readFileSync(join(rt.out, 'batch-state.json'), 'utf8')
  .replace(/"completed_runs": \[[^\]]*\]/, '"completed_runs": []')
  .replace(/"output_dir": "[^"]*"/, `"output_dir": ${JSON.stringify(bt.out)}`);
mkdirSync(bt.out, { recursive: true });
writeFileSync(join(bt.out, 'batch-state.json'), stateText);
srv.reset();
t0 = Date.now();
r = await runCli(['run', bt.path, '--base-url', srv.url, '--resume'], { env });
if (r.code !== 0) throw new Error(`batch-mode batch failed: ${r.stderr}`);
const btSecs = (Date.now() - t0) / 1000;
const btFig = figures(bt.out);
const journal = readFileSync(join(bt.out, 'batch-jobs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const rounds = new Set(journal.map((j) => j.requests[0].key.split('/').slice(0, 2).join('/')));

console.log(`${runs} runs × ${turns} turns of city-ai-rollout, ${models.size} models at $${PRICE.prompt} / $${PRICE.completion} per million tokens`);
line('realtime', rtFig, rtSecs);
line('batch', btFig, btSecs);
console.log(`batch / realtime cost: ${(btFig.cost / rtFig.cost).toFixed(3)} (target <= 0.55)`);
console.log(`provider round trips: ${rounds.size} rounds of jobs (${journal.length} jobs, ${srv.stats().batches.requestsSubmitted} requests, ${srv.stats().batches.duplicateRequests} submitted twice)`);
console.log(`prompt tokens cached from turn 2 on: ${(100 * rtFig.later).toFixed(1)}% realtime (target >= 50%)`);
await srv.close();
rmSync(tmp, { recursive: true, force: true });
