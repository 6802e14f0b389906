// The CLI as a user runs it: the package is packed with `npm pack` and each command is run with
// `npx --yes file:<absolute path of the tarball> ...` (nothing installed globally; npm's cache is
// a throwaway folder). The `file:` is needed because npx runs a bare absolute path as a program
// (exit 126) instead of installing it; `./x.tgz` works too, but only relative to the cwd. Needs pkg/ built (`npm run build`); builds nothing itself. The working
// directory is the project root, because paths inside the example configs are relative to it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const VERSION = '0.1.0';
const ANSI = /\x1b\[/;
const QUICK = 'experiments/quick-start/batch-config.yaml';

let tmp;
let tarball;

before(() => {
  assert.ok(
    existsSync(join(ROOT, 'pkg', 'scenario_lab_bg.wasm')),
    'pkg/ is not built: run `npm run build` (or `npm test`, which builds first)',
  );
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-cli-'));
  const r = spawnSync('npm', ['pack', '--pack-destination', tmp, '--silent'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `npm pack failed:\n${r.stderr}`);
  tarball = join(tmp, `scenario-lab-${VERSION}.tgz`);
  assert.ok(existsSync(tarball), `npm pack did not write ${tarball}`);
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Environment for a user's shell: no API key, no colour forcing, a private npm cache. */
function userEnv(extra = {}) {
  const env = { ...process.env };
  // CI=true (set by CI runners) makes Node report a 2-colour terminal, so a user's shell has none.
  for (const k of ['OPENROUTER_API_KEY', 'SCENARIO_LAB_BASE_URL', 'NO_COLOR', 'FORCE_COLOR', 'CI']) delete env[k];
  return {
    ...env,
    npm_config_cache: join(tmp, 'npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    // npm's own spinner and colours would put escapes on a terminal that are not ours.
    npm_config_progress: 'false',
    npm_config_color: 'false',
    npm_config_loglevel: 'error',
    ...extra,
  };
}

/** `npx --yes file:<tarball> ...args`, asynchronously (tests may serve HTTP meanwhile). */
function cli(args, { cwd = ROOT, env = {}, npxArgs = [`file:${tarball}`] } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('npx', ['--yes', ...npxArgs, ...args], { cwd, env: userEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Every path under `dir`, for before/after comparisons. */
function listing(dir) {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((p) => !/^(node_modules|target|\.git)([/\\]|$)/.test(p))
    .sort();
}

test('--version prints the version', async () => {
  const r = await cli(['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), VERSION);
});

test('--help and each command help exit 0 and show the exit-code table', async () => {
  for (const args of [['--help'], ['-h'], ['validate', '--help'], ['run', '--help'], ['help', 'run']]) {
    const r = await cli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /USAGE:/, args.join(' '));
    assert.match(r.stdout, /EXIT STATUS:[\s\S]*\b2\b/, args.join(' '));
  }
  // The bin is called scenario-lab.
  const named = await cli(['--help'], { npxArgs: [`--package=file:${tarball}`, 'scenario-lab'] });
  assert.equal(named.code, 0, named.stderr);
  assert.match(named.stdout, /^scenario-lab 0\.1\.0$/m);
});

test('an unknown command exits 2 with a suggestion', async () => {
  const r = await cli(['valdate', 'scenarios/quick-negotiation']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^scenario-lab: .*unknown command 'valdate'.*did you mean 'validate'/m);
  assert.equal(r.stdout, '');
});

test('an unknown option exits 2 with a suggestion', async () => {
  const r = await cli(['run', QUICK, '--dryrun']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--dryrun'.*did you mean '--dry-run'/);
});

test('run (from the packed tarball) runs a batch on the built-in model and writes its tree', async () => {
  const out = join(tmp, 'packed-batch');
  const cfg = join(tmp, 'packed-batch.yaml');
  writeFileSync(cfg, `experiment_name: packed\nbase_scenario: ${join(ROOT, 'scenarios', 'quick-negotiation')}\nruns_per_variation: 2\nmax_parallel: 2\noutput_dir: ${out}\n`);
  const r = await cli(['run', cfg]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Completed 2 of 2 runs/);
  for (const f of ['batch-state.json', 'batch-costs.json', 'batch-summary.json', 'runs/var-001-run-002/costs.json']) {
    assert.ok(existsSync(join(out, f)), f);
  }
  const again = await cli(['run', cfg]);
  assert.equal(again.code, 2, 'a second run without --resume is refused');
  assert.match(again.stderr, /--resume/);
});

test('a newcomer\'s first steps from the packed tarball: init --example quick-start, then run it on the built-in model', async () => {
  const home = join(tmp, 'newcomer');
  mkdirSync(home);
  const init = await cli(['init', '--example', 'quick-start'], { cwd: home });
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /valid batch config: experiments\/quick-start\/batch-config\.yaml/);
  assert.match(init.stdout, /cd quick-start\n.*npx scenario-lab run experiments\/quick-start\/batch-config\.yaml/s);
  // Only the example's config and its scenario: no run outputs came with the package.
  assert.deepEqual(readdirSync(join(home, 'quick-start', 'experiments', 'quick-start')), ['batch-config.yaml']);
  const run = await cli(['run', 'experiments/quick-start/batch-config.yaml'], { cwd: join(home, 'quick-start') });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /Completed 3 of 3 runs/);
  assert.ok(existsSync(join(home, 'quick-start', 'experiments', 'quick-start', 'runs', 'var-001-run-003', 'metrics.json')));
});

test('validate a scenario folder: exit 0', async () => {
  const r = await cli(['validate', 'scenarios/quick-negotiation']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /valid scenario/);
});

test('validate a batch config: exit 0', async () => {
  const r = await cli(['validate', QUICK]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /valid batch config/);
});

test('validate --json prints the report as JSON', async () => {
  const r = await cli(['validate', QUICK, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.ok, true);
  assert.equal(report.kind, 'batch');
  assert.deepEqual(report.errors, []);
});

test('a bad batch config exits 2 and names file, line, column and the near key', async () => {
  const dir = join(tmp, 'bad');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'batch-config.yaml');
  writeFileSync(
    file,
    [
      'experiment_name: "bad"',
      `base_scenario: "${join(ROOT, 'scenarios', 'quick-negotiation')}"`,
      'runs_per_variation: 0',
      'budget_limt: 5',
      '',
    ].join('\n'),
  );
  const r = await cli(['validate', file]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /batch-config\.yaml:4:1\b/, 'the misspelt key is on line 4, column 1');
  assert.match(r.stderr, /budget_limt/);
  assert.match(r.stderr, /did you mean `budget_limit`/);
  assert.match(r.stderr, /runs_per_variation/, 'every problem is reported, not just the first');
  assert.match(r.stdout, /invalid batch config/);

  // The same config cannot be planned either.
  const plan = await cli(['run', file, '--dry-run']);
  assert.equal(plan.code, 2, plan.stderr);
  assert.match(plan.stderr, /did you mean `budget_limit`/);
});

test('validate of a missing path exits 2', async () => {
  const r = await cli(['validate', join(tmp, 'no-such-thing.yaml')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /no-such-thing/);
});

test('run --dry-run prints the plan with the total runs and writes nothing', async () => {
  const beforeRoot = listing(ROOT);
  const r = await cli(['run', QUICK, '--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /quick-start/);
  assert.match(r.stdout, /\b3 runs\b|\bruns\b\W+3\b/i, 'quick-start makes 3 runs');
  assert.deepEqual(listing(ROOT), beforeRoot, 'a dry run must not create or delete files');
});

test('run --dry-run --json prints the plan as JSON', async () => {
  const r = await cli(['run', QUICK, '--dry-run', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const plan = JSON.parse(r.stdout);
  assert.equal(typeof plan, 'object');
  assert.ok(!ANSI.test(r.stdout));
});

test('with OPENROUTER_API_KEY the model list is fetched from the base URL; the key is never printed', async (t) => {
  const KEY = 'sk-test-never-print-me';
  const seen = [];
  let status = 200;
  const server = createServer((req, res) => {
    seen.push({ url: req.url, auth: req.headers.authorization });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(status === 200 ? JSON.stringify({ data: [] }) : '{"error":"nope"}');
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${server.address().port}/api/v1`;

  const ok = await cli(['run', QUICK, '--dry-run', '--base-url', base], { env: { OPENROUTER_API_KEY: KEY } });
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(seen, [{ url: '/api/v1/models', auth: `Bearer ${KEY}` }]);
  assert.ok(!ok.stdout.includes(KEY) && !ok.stderr.includes(KEY));

  // A failing server: one warning line, then the plan anyway.
  status = 500;
  const bad = await cli(['run', QUICK, '--dry-run'], {
    env: { OPENROUTER_API_KEY: KEY, SCENARIO_LAB_BASE_URL: base },
  });
  assert.equal(bad.code, 0, bad.stderr);
  assert.equal(seen.length, 2);
  const warnings = bad.stderr.split('\n').filter((l) => /warning/.test(l));
  assert.equal(warnings.length, 1, bad.stderr);
  assert.match(warnings[0], /^scenario-lab: warning: could not fetch model prices .*HTTP 500/);
  assert.ok(!bad.stdout.includes(KEY) && !bad.stderr.includes(KEY));
  assert.match(bad.stdout, /quick-start/);
});

test('NO_COLOR and non-terminals get no ANSI escapes', async (t) => {
  // Piped output (not a terminal): never colour.
  for (const args of [['validate', QUICK], ['run', QUICK, '--dry-run']]) {
    const r = await cli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!ANSI.test(r.stdout) && !ANSI.test(r.stderr), `${args.join(' ')} coloured a pipe`);
  }

  // On a real terminal (a pseudo-terminal from util-linux `script`), NO_COLOR turns colour off.
  if (spawnSync('script', ['--version']).status !== 0) {
    t.diagnostic('util-linux `script` not found: the terminal half of this test was not run');
    return;
  }
  const onTty = (args, env) =>
    new Promise((ok, reject) => {
      const cmd = ['npx', '--yes', `file:${tarball}`, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
      const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: ROOT, env: userEnv({ TERM: 'xterm-256color', ...env }) });
      let all = '';
      child.stdout.on('data', (d) => (all += d));
      child.on('error', reject);
      child.on('close', (code) => ok({ code, all }));
    });
  const coloured = await onTty(['validate', QUICK], {});
  assert.equal(coloured.code, 0, coloured.all);
  assert.ok(ANSI.test(coloured.all), `a terminal without NO_COLOR should get colour:\n${coloured.all}`);
  for (const args of [['validate', QUICK], ['run', QUICK, '--dry-run']]) {
    const r = await onTty(args, { NO_COLOR: '1' });
    assert.equal(r.code, 0, r.all);
    assert.ok(!ANSI.test(r.all), `${args.join(' ')} with NO_COLOR on a terminal:\n${r.all}`);
  }
});
