// bench/budget-use.mjs: how much of a budget a batch spends before it stops (issue 10).
//
// Each case runs one batch of the 2-actor quick-negotiation scenario (actors and world on the
// fake server, 2 variations x R runs) twice through the real CLI: once without a budget, to
// learn what the whole batch costs, then with `budget_limit` set to a share of that (40-60%).
// The fake server bills by tokens (pricePerMillion) and pads its replies to lengths that vary
// by role and by request (replyTokens ranges, some past their caps), so costs vary as a real
// model's do. Baseline: the budget. Target: spent / budget >= 0.90 and <= 1.00 in every case.
// Run: node bench/budget-use.mjs [--cases 12] [--runs 8]

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SCENARIO, cleanup, fmt, runCli, startFakeLlm, tempDir, verdict } from './_lib.mjs';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '12' },
    runs: { type: 'string', default: '8' },
  },
});
const CASES = Number(values.cases);
const RUNS = Number(values.runs);
const PRICE = { prompt: 0.5, completion: 2.0 };

// A deterministic draw in [0, 1) per case and purpose.
const draw = (k, what) => {
  let h = 0x811c9dc5;
  for (const c of `${k}:${what}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  return ((h ^ (h >>> 15)) >>> 0) / 2 ** 32;
};

function config(dir, name, { maxParallel, budget }) {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, `experiment_name: "${name}"
base_scenario: ${JSON.stringify(SCENARIO)}
runs_per_variation: ${RUNS}
max_parallel: ${maxParallel}
output_dir: ${JSON.stringify(join(dir, `out-${name}`))}
aggregate_metrics: false
${budget === undefined ? '' : `budget_limit: ${budget}\n`}prices:
  test/a: {prompt: ${PRICE.prompt}, completion: ${PRICE.completion}}
  test/b: {prompt: ${PRICE.prompt}, completion: ${PRICE.completion}}
variations:
  - type: actor_model
    actor: council
    values: [test/a, test/b]
  - type: actor_model
    actor: swiftride
    values: [test/a]
  - type: scenario_parameter
    parameter: world_state_model
    values: [test/a]
`);
  return path;
}

const dir = tempDir('budget');
const srv = await startFakeLlm({
  port: 0,
  latencyMs: 5,
  pricePerMillion: PRICE,
  replyTokens: { actor: { min: 100, max: 900 }, world: { min: 200, max: 1200 }, communication: { min: 20, max: 300 } },
});
const uses = [];
try {
  console.log(`budget-use: ${CASES} batches of 2 variations x ${RUNS} runs x 3 turns (9 calls a run), replies of 100-1200 tokens, $${PRICE.prompt} / $${PRICE.completion} per million`);
  console.log('baseline: the budget, set to 40-60% of what the same batch costs without one; target: 0.90 <= spent / budget <= 1.00');
  for (let k = 0; k < CASES; k++) {
    const maxParallel = 1 + Math.floor(draw(k, 'parallel') * 8);
    srv.configure({ seed: k + 1 });
    const full = await runCli(config(dir, `full-${k}`, { maxParallel }), srv.url);
    const cost = full.summary?.total_spent;
    if (full.code !== 0 || !(cost > 0)) {
      console.log(`case ${k} MISSED: the unbudgeted batch exited ${full.code}\n${full.stderr.slice(-1500)}`);
      continue;
    }
    const share = 0.4 + draw(k, 'share') * 0.2;
    const budget = Number((cost * share).toFixed(9));
    const r = await runCli(config(dir, `budget-${k}`, { maxParallel, budget }), srv.url);
    const spent = r.summary?.total_spent ?? NaN;
    const use = spent / budget;
    uses.push(use);
    console.log(`case ${String(k).padStart(2)}  max_parallel ${maxParallel}  batch $${fmt(cost, 5)}  budget $${fmt(budget, 5)} (${fmt(share * 100, 0)}%)  spent $${fmt(spent, 5)}  spent/budget ${fmt(use, 3)}  stop ${r.summary?.stop_reason}  ${verdict(use >= 0.9 && use <= 1)}`);
  }
  if (uses.length) {
    uses.sort((a, b) => a - b);
    const mean = uses.reduce((a, b) => a + b, 0) / uses.length;
    console.log(`spent / budget over ${uses.length} batches: min ${fmt(uses[0], 3)}, median ${fmt(uses[Math.floor(uses.length / 2)], 3)}, mean ${fmt(mean, 3)}, max ${fmt(uses.at(-1), 3)}  ${verdict(uses[0] >= 0.9 && uses.at(-1) <= 1)}`);
  }
} finally {
  await srv.close();
  cleanup(dir);
}
