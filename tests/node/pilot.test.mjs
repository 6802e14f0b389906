// The estimate that learns, end to end (issue 10, item 5): `run --pilot N` against the fake
// server, whose replies vary in length by role and whose bill follows the tokens
// (`replyTokens`, `pricePerMillion`); then the calibrated estimate of the rest (printed by the
// pilot and by `--dry-run`) against what the rest then costs. Prints the error. Also the
// terminal path: the pilot asks, and a "y" runs the rest. Needs pkg/ built.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeLlm } from '../fake-llm/server.mjs';
import { runCli, CLI } from './run-cli.mjs';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

// Replies far from the built-in token model's expectations (400 tokens a decision, 600 a world
// update, 150 a message), within the default caps; two models at different prices.
const REPLY_TOKENS = {
  actor: { min: 500, max: 750 },
  world: { min: 80, max: 300 },
  communication: { min: 150, max: 280 },
  check: { min: 60, max: 200 },
  summary: { min: 150, max: 350 },
};
const PRICES = {
  'test/cheap': { prompt: 1, completion: 4 },
  'test/dear': { prompt: 3, completion: 15 },
};

let srv;
let tmp;
let scenario;

before(async () => {
  assert.ok(existsSync(join(ROOT, 'pkg', 'scenario_lab_bg.wasm')), 'pkg/ is not built: run `npm run build`');
  // No prefix cache: the calibrated estimate prices recorded tokens at list prices with nothing
  // cached (an upper bound, on the safe side of a budget), and this test measures its accuracy.
  srv = await startFakeLlm({ port: 0, latencyMs: 2, replyTokens: REPLY_TOKENS, pricePerMillion: PRICES, promptCache: false });
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-pilot-'));
  // The quick negotiation on hosted models, with bilateral talks.
  scenario = join(tmp, 'scenario');
  cpSync(join(ROOT, 'scenarios', 'quick-negotiation'), scenario, { recursive: true });
  for (const f of ['scenario.yaml', 'actors/council.yaml', 'actors/swiftride.yaml']) {
    const p = join(scenario, f);
    let text = readFileSync(p, 'utf8').replaceAll('builtin/simulator', 'test/cheap');
    if (f === 'scenario.yaml') text += '\nenable_bilateral_communication: true\nmax_communications_per_turn: 2\n';
    writeFileSync(p, text);
  }
});

after(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A batch of `runs` runs for each of the council's two models. */
function config(name, runs) {
  const out = join(tmp, name);
  const path = join(tmp, `${name}.yaml`);
  const prices = Object.entries(PRICES).map(([m, p]) => `  ${m}: {prompt: ${p.prompt}, completion: ${p.completion}}`).join('\n');
  writeFileSync(path, `experiment_name: ${name}
base_scenario: ${scenario}
runs_per_variation: ${runs}
max_parallel: 4
output_dir: ${out}
prices:
${prices}
variations:
  - type: actor_model
    actor: council
    values: [test/cheap, test/dear]
`);
  return { path, out };
}

const cli = (args, env = {}) => runCli(args, { env: { SCENARIO_LAB_BASE_URL: srv.url, ...env } });
const completed = (out) =>
  readdirSync(join(out, 'runs')).filter((id) => JSON.parse(readFileSync(join(out, 'runs', id, 'scenario-state.json'), 'utf8')).status === 'completed');

test('after --pilot 2, the estimate of the rest is within 15% of what the rest costs', async (t) => {
  srv.reset();
  const { path, out } = config('pilot', 10);
  const pilot = await cli(['run', path, '--pilot', '2', '--no-progress']);
  assert.equal(pilot.code, 0, pilot.stderr);
  assert.equal(completed(out).length, 4, 'runs 1 and 2 of each variation, and no more');
  // Off a terminal: the estimate of the rest, the command to run it, and a stop.
  assert.match(pilot.stdout, /The rest of the batch \(calibrated from \d+ recorded calls in 4 runs\)/);
  assert.match(pilot.stdout, /Remaining +16 runs/);
  assert.ok(pilot.stdout.includes(`npx scenario-lab run ${path} --resume`), pilot.stdout);
  assert.match(pilot.stderr, /the pilot is done; the remaining 16 runs wait for: npx scenario-lab run .* --resume/);
  assert.ok(!/Some runs did not complete/.test(pilot.stderr), pilot.stderr);

  // The dry run now estimates the rest, and says on what basis.
  const dry = await cli(['run', path, '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /The rest of the batch \(calibrated from \d+ recorded calls in 4 runs\)/);
  assert.match(dry.stdout, /To run the rest:\n {2}npx scenario-lab run .* --resume/);
  const plan = JSON.parse((await cli(['run', path, '--dry-run', '--json'])).stdout);
  const c = plan.calibration;
  assert.equal(c.basis, 'calibrated');
  assert.equal(c.remaining_runs, 16);
  assert.equal(c.runs_completed, 4);
  const spentBefore = srv.stats().totalCost;
  assert.ok(Math.abs(c.spent - spentBefore) < 1e-9, `spent ${c.spent} vs billed ${spentBefore}`);

  const rest = await cli(['run', path, '--resume', '--no-progress']);
  assert.equal(rest.code, 0, rest.stderr);
  assert.equal(completed(out).length, 20);
  const actual = srv.stats().totalCost - spentBefore;
  const error = (c.remaining_cost.expected - actual) / actual;
  const builtIn = (c.built_in_remaining_cost.expected - actual) / actual;
  const pct = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
  t.diagnostic(`pilot 2 of 10 runs per variation: the rest cost $${actual.toFixed(6)}; calibrated estimate $${c.remaining_cost.expected.toFixed(6)} (${pct(error)}), range $${c.remaining_cost.low.toFixed(6)}..$${c.remaining_cost.high.toFixed(6)}; built-in token model $${c.built_in_remaining_cost.expected.toFixed(6)} (${pct(builtIn)})`);
  assert.ok(Math.abs(error) <= 0.15, `the estimate is off by ${pct(error)}`);

  // Done: nothing is left, and the dry run says so.
  const end = await cli(['run', path, '--dry-run']);
  assert.match(end.stdout, /Remaining +none: every run is completed/);
  assert.match(end.stdout, /nothing is left to run/);
});

test('on a terminal the pilot asks, and "y" runs the rest; "n" leaves it', async (t) => {
  if (spawnSync('script', ['--version']).status !== 0) {
    t.skip('util-linux `script` not found');
    return;
  }
  const onTty = (args, answer) =>
    new Promise((done, reject) => {
      const cmd = [process.execPath, CLI, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
      const child = spawn('script', ['-qec', cmd, '/dev/null'], {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: '1', TERM: 'xterm', OPENROUTER_API_KEY: '', SCENARIO_LAB_BASE_URL: srv.url },
      });
      let all = '';
      let answered = false;
      child.stdout.on('data', (d) => {
        all += d;
        if (!answered && /\[y\/N\]/.test(all)) {
          answered = true;
          child.stdin.write(`${answer}\r`);
        }
      });
      child.on('error', reject);
      child.on('close', (code) => done({ code, all }));
    });

  const no = config('asked-no', 3);
  const a = await onTty(['run', no.path, '--pilot', '1'], 'n');
  assert.equal(a.code, 0, a.all);
  assert.match(a.all, /Run the remaining 4 runs \(about \$[\d.]+\)\? \[y\/N\]/);
  assert.equal(completed(no.out).length, 2);

  const yes = config('asked-yes', 3);
  const b = await onTty(['run', yes.path, '--pilot', '1'], 'y');
  assert.equal(b.code, 0, b.all);
  assert.match(b.all, /Run the remaining 4 runs/);
  assert.equal(completed(yes.out).length, 6, b.all);
});

test('--pilot is a whole number, and not for a dry run', async () => {
  const { path, out } = config('bad-pilot', 2);
  for (const args of [['--pilot', '0'], ['--pilot', 'two'], ['--pilot', '1', '--dry-run']]) {
    const r = await cli(['run', path, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /--pilot/);
    assert.match(r.stderr, /scenario-lab run --help/);
  }
  assert.ok(!existsSync(out), 'nothing was written');
});
