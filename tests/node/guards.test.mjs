// Issue 14, hostile inputs, through the real CLI: an output folder that is a root, a system
// folder or someone else's files is refused before anything is written (exit 2, the file and
// line), and a size that needs confirming (runs, turns, cost beyond the budget) is refused off a
// terminal without --yes, quickly, however large, and shown by --dry-run. The decisions are the
// core's (src/outdir.rs, src/plan/confirm.rs); these check that the CLI asks and obeys them.
// Needs pkg/ built.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { CLI, ROOT, runCli } from './run-cli.mjs';

const QUICK = join(ROOT, 'scenarios', 'quick-negotiation');
let tmp;

before(() => {
  // Directly under the temporary folder, so that `../../etc` from here is /etc.
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-guards-'));
});

after(() => rmSync(tmp, { recursive: true, force: true }));

/** A batch config in `tmp` named `name`, with `lines` after its head. */
function config(name, lines, scenario = QUICK) {
  const path = join(tmp, `${name}.yaml`);
  writeFileSync(path, [`experiment_name: "${name}"`, `base_scenario: "${scenario}"`, 'aggregate_metrics: false', ...lines, ''].join('\n'));
  return path;
}

/** Asserts the exit status, showing what the CLI printed when it is not the one expected. */
function exits(r, code, what) {
  assert.equal(r.code, code, `${what}: exit ${r.code}, expected ${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

test('output_dir "/" is refused: exit 2, the line, nothing written', async () => {
  const path = config('root', ['output_dir: "/"']);
  const r = await runCli(['run', path, '--force'], { cwd: tmp });
  exits(r, 2, 'output_dir /');
  assert.match(r.stderr, /filesystem root/);
  assert.match(r.stderr, new RegExp(`${path.replaceAll('/', '\\/')}:4`));
  assert.match(r.stderr, /nothing was written|invalid config/);
  assert.ok(!existsSync('/batch-state.json') && !existsSync('/batch-config.yaml'), 'nothing written in /');
});

test('output_dir "../../etc" resolves and is refused as /etc, even with --force', async () => {
  const path = config('etc', ['output_dir: "../../etc"']);
  const r = await runCli(['run', path, '--force'], { cwd: tmp });
  exits(r, 2, 'output_dir ../../etc');
  assert.match(r.stderr, /`\.\.\/\.\.\/etc` \(which is \/etc\) is a system folder/);
  assert.match(r.stderr, /output_dir: "\.\.\/\.\.\/etc"/, 'the line is quoted');
  assert.ok(!existsSync('/etc/batch-state.json'));
});

test('a non-empty folder that is not ours is refused, and accepted with --force', async () => {
  const out = join(tmp, 'photos');
  mkdirSync(out);
  writeFileSync(join(out, 'holiday.jpg'), 'not a batch\n');
  const path = config('foreign', [`output_dir: "${out}"`, 'all_models: builtin/simulator']);
  const r = await runCli(['run', path], { cwd: tmp });
  exits(r, 2, 'a foreign folder');
  assert.match(r.stderr, /not empty and is not a Scenario Lab output folder/);
  assert.match(r.stderr, /`holiday\.jpg`/);
  assert.match(r.stderr, /--force/);
  assert.deepEqual(readdirSync(out), ['holiday.jpg'], 'nothing written');

  const forced = await runCli(['run', path, '--force', '--no-progress'], { cwd: tmp });
  exits(forced, 0, 'with --force');
  assert.ok(existsSync(join(out, 'batch-state.json')));
  assert.ok(existsSync(join(out, 'holiday.jpg')));
  // Now it is ours: a second session resumes without --force.
  const resumed = await runCli(['run', path, '--resume', '--no-progress'], { cwd: tmp });
  exits(resumed, 0, '--resume on our own folder');
});

test('an output folder that is a symbolic link is allowed, and where it points is said', async () => {
  const real = join(tmp, 'real-out');
  mkdirSync(real);
  const link = join(tmp, 'linked-out');
  symlinkSync(real, link);
  const path = config('linked', [`output_dir: "${link}"`, 'all_models: builtin/simulator']);
  const r = await runCli(['run', path, '--no-progress'], { cwd: tmp });
  exits(r, 0, 'a linked output folder');
  assert.match(r.stderr, new RegExp(`symbolic link to ${real.replaceAll('/', '\\/')}`));
  assert.ok(existsSync(join(real, 'batch-state.json')));
});

test('scenario --output / is refused, and nothing is written', async () => {
  const r = await runCli(['scenario', QUICK, '--output', '/', '--force'], { cwd: tmp });
  exits(r, 2, 'scenario --output /');
  assert.match(r.stderr, /filesystem root/);
  assert.ok(!existsSync('/scenario-state.json') && !existsSync('/llm-calls.jsonl'));
  const foreign = join(tmp, 'thesis');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'chapter-1.tex'), '\\section{One}\n');
  const f = await runCli(['scenario', QUICK, '--output', foreign], { cwd: tmp });
  exits(f, 2, 'scenario --output into a foreign folder');
  assert.match(f.stderr, /no scenario-state\.json/);
  assert.deepEqual(readdirSync(foreign), ['chapter-1.tex']);
});

test('runs_per_variation 1000000000 is refused fast: beyond what a run id can name', async () => {
  const out = join(tmp, 'billion-runs');
  const path = config('billion-runs', ['runs_per_variation: 1000000000', `output_dir: "${out}"`]);
  for (const args of [[], ['--yes'], ['--dry-run']]) {
    const started = Date.now();
    const r = await runCli(['run', path, ...args], { cwd: tmp });
    const took = Date.now() - started;
    exits(r, 2, `a billion runs ${args.join(' ')}`);
    assert.match(r.stderr, /`runs_per_variation` is at most 999999999/);
    assert.match(r.stderr, new RegExp(`${path.replaceAll('/', '\\/')}:4`));
    assert.ok(!existsSync(out), 'no output folder');
    // A CLI start and the wasm's load included.
    assert.ok(took < 5000, `took ${took} ms`);
  }
});

test('runs_per_variation 999999999 needs confirming: refused off a terminal, fast; --dry-run shows it', async () => {
  const out = join(tmp, 'many-runs');
  const path = config('many-runs', ['runs_per_variation: 999999999', `output_dir: "${out}"`]);
  const started = Date.now();
  const r = await runCli(['run', path], { cwd: tmp });
  const took = Date.now() - started;
  exits(r, 2, 'a billion runs');
  assert.match(r.stderr, /999999999 runs, more than 100000 without confirmation/);
  assert.match(r.stderr, /runs_per_variation: 999999999/, 'the line is quoted');
  assert.match(r.stderr, /--yes/);
  assert.ok(!existsSync(out), 'no output folder');
  // A CLI start and the wasm's load included; the refusal itself is a plan of one variation.
  assert.ok(took < 5000, `took ${took} ms`);

  const dry = await runCli(['run', path, '--dry-run'], { cwd: tmp });
  exits(dry, 0, 'the dry run');
  assert.match(dry.stdout, /Sizes\s+999999999 runs \(at most 100000\), 3 turns per run at most/);
  assert.match(dry.stdout, /needs confirming[\s\S]*the batch has 999999999 runs/);
  assert.ok(!existsSync(out));
});

test('turns: 1000000000 is refused, pointing at scenario.yaml', async () => {
  const scenario = join(tmp, 'long-scenario');
  cpSync(QUICK, scenario, { recursive: true });
  const file = join(scenario, 'scenario.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^turns: \d+/m, 'turns: 1000000000'));
  const out = join(tmp, 'long-out');
  const path = config('long', [`output_dir: "${out}"`], scenario);
  const started = Date.now();
  const r = await runCli(['run', path], { cwd: tmp });
  const took = Date.now() - started;
  exits(r, 2, 'a billion turns');
  assert.match(r.stderr, /1000000000 turns, more than 1000 without confirmation/);
  assert.match(r.stderr, new RegExp(`${file.replaceAll('/', '\\/')}:\\d+`));
  assert.ok(!existsSync(out), 'no output folder');
  assert.ok(took < 5000, `took ${took} ms`);
});

test('scenario: a run of more than 1,000 turns is refused off a terminal, from the file or --turns, and starts with --yes', async () => {
  const scenario = join(tmp, 'long-single');
  cpSync(QUICK, scenario, { recursive: true });
  const file = join(scenario, 'scenario.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^turns: \d+/m, 'turns: 1000000000'));
  const out = join(tmp, 'long-single-out');
  const r = await runCli(['scenario', scenario, '--output', out], { cwd: tmp });
  exits(r, 2, 'a billion turns in scenario.yaml');
  assert.match(r.stderr, /1000000000 turns \(`turns: 1000000000` in .*scenario\.yaml\), more than the 1000 .*pass --yes/);
  assert.ok(!existsSync(out), 'no run folder');

  const flag = await runCli(['scenario', QUICK, '--turns', '5000', '--output', out], { cwd: tmp });
  exits(flag, 2, '--turns 5000');
  assert.match(flag.stderr, /5000 turns \(--turns 5000\)/);
  assert.ok(!existsSync(out), 'no run folder');

  // With --yes the run starts; it is stopped once its first state is written.
  const yes = spawn(process.execPath, [CLI, 'scenario', QUICK, '--turns', '1001', '--output', out, '--yes'], { cwd: tmp, stdio: 'ignore' });
  const state = join(out, 'scenario-state.json');
  for (let i = 0; i < 300 && !existsSync(state); i++) await new Promise((r) => setTimeout(r, 50));
  yes.kill('SIGKILL');
  assert.ok(existsSync(state), '--yes starts the run');
});

test('a cost far beyond the budget is refused, and starts with --yes', async () => {
  const out = join(tmp, 'dear');
  // The simulator at a price: the cost is known and nothing goes to the network.
  const path = config('dear', [
    'runs_per_variation: 4',
    `output_dir: "${out}"`,
    'prices:',
    '  builtin/simulator: {prompt: 1000, completion: 1000}',
    'budget_limit: 0.01',
  ]);
  const r = await runCli(['run', path], { cwd: tmp });
  exits(r, 2, 'far beyond the budget');
  assert.match(r.stderr, /more than 3 times its budget_limit \(\$0\.01\)/);
  assert.match(r.stderr, /budget_limit: 0\.01/, 'the line is quoted');
  assert.ok(!existsSync(out), 'no output folder');

  const yes = await runCli(['run', path, '--yes', '--no-progress'], { cwd: tmp });
  assert.ok(yes.code === 0 || yes.code === 1, `started: exit ${yes.code}\n${yes.stderr}`);
  assert.ok(existsSync(join(out, 'batch-state.json')), 'the batch started');
  assert.match(yes.stderr, /Stopped at the budget|budget/);
});

test('on a terminal the size is asked about: "n" writes nothing, "y" starts the batch', async () => {
  const onTty = (args, answer) =>
    new Promise((done, reject) => {
      const cmd = [process.execPath, CLI, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
      const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: tmp, env: { ...process.env, NO_COLOR: '1', TERM: 'xterm', OPENROUTER_API_KEY: '' } });
      let all = '';
      let answered = false;
      child.stdout.on('data', (d) => {
        all += d;
        if (!answered && /Continue\? \[y\/N\]/.test(all)) {
          answered = true;
          child.stdin.write(`${answer}\r`);
        }
      });
      child.on('error', reject);
      child.on('close', (code) => done({ code, all }));
    });
  const dear = (name) => {
    const out = join(tmp, name);
    const path = config(name, ['runs_per_variation: 2', `output_dir: "${out}"`, 'prices:', '  builtin/simulator: {prompt: 1000, completion: 1000}', 'budget_limit: 0.01']);
    return { path, out };
  };
  const no = dear('asked-no');
  const a = await onTty(['run', no.path, '--no-progress'], 'n');
  assert.equal(a.code, 2, a.all);
  assert.match(a.all, /more than 3 times its budget_limit[\s\S]*Continue\? \[y\/N\]/);
  assert.match(a.all, /nothing was written/);
  assert.ok(!existsSync(no.out));
  const yes = dear('asked-yes');
  const b = await onTty(['run', yes.path, '--no-progress'], 'y');
  assert.ok(b.code === 0 || b.code === 1, b.all);
  assert.ok(existsSync(join(yes.out, 'batch-state.json')), b.all);
});
