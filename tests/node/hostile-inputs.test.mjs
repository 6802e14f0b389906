// Hostile and huge inputs, through the real CLI and wasm build (issue 14): each is refused as an
// invalid config (exit 2), with its file and line, quickly, in bounded memory, and with nothing
// written. Memory is the CLI process's peak resident set, which an `--import`ed hook prints at
// exit (the wasm heap is in it).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT } from './run-cli.mjs';

const PEAK_HOOK =
  'data:text/javascript,process.on("exit",()=>process.stderr.write("\\npeak-rss-kb="+process.resourceUsage().maxRSS+"\\n"))';

let tmp;

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-hostile-'));
});

after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the CLI; resolves to `{ code, stdout, stderr, seconds, peakMb }`. */
function cli(args, env = {}) {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', PEAK_HOOK, CLI, ...args], {
      cwd: tmp,
      env: { ...process.env, NO_COLOR: '1', OPENROUTER_API_KEY: '', SCENARIO_LAB_BASE_URL: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const peak = /peak-rss-kb=(\d+)/.exec(stderr);
      done({
        code,
        stdout,
        stderr: stderr.replace(/\npeak-rss-kb=\d+\n/, ''),
        seconds: (Date.now() - started) / 1000,
        peakMb: peak ? Number(peak[1]) / 1024 : Infinity,
      });
    });
  });
}

/** A copy of the quick-start scenario under `name`, with `scenario.yaml` changed by `edit`. */
function scenario(name, edit = (text) => text) {
  const dir = join(tmp, name);
  cpSync(join(ROOT, 'scenarios/quick-negotiation'), dir, { recursive: true });
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
  return dir;
}

/** A batch config in the temp folder, output under it. */
function batchConfig(name, scenarioDir, extra = '') {
  const path = join(tmp, `${name}.yaml`);
  writeFileSync(
    path,
    [
      `experiment_name: "${name}"`,
      `base_scenario: "${scenarioDir}"`,
      'runs_per_variation: 1',
      'max_parallel: 1',
      `output_dir: "${join(tmp, `out-${name}`)}"`,
      extra,
      '',
    ].join('\n'),
  );
  return path;
}

/** Ten levels of nine aliases: 10^9 leaves once expanded. */
function aliasBomb(indent) {
  const lines = [`${indent}l0: &l0 ["lol"]`];
  for (let i = 1; i < 10; i++) {
    lines.push(`${indent}l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]`);
  }
  return lines.join('\n');
}

function assertRefusedCleanly(r, { file, pattern }) {
  if (process.env.SHOW_PEAKS) console.error(`${file}: exit ${r.code} in ${r.seconds.toFixed(2)} s, peak ${r.peakMb.toFixed(0)} MB`);
  assert.equal(r.code, 2, `exit code\n${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:\\d+`), 'names the file and line');
  assert.ok(r.seconds < 20, `took ${r.seconds} s`);
  assert.ok(r.peakMb < 300, `peak ${r.peakMb.toFixed(0)} MB`);
  assert.ok(r.stderr.length < 4000, `the message is ${r.stderr.length} characters`);
}

test('an alias bomb in scenario.yaml is refused at its line, in bounded memory', async () => {
  const dir = scenario('bomb-scenario', (text) => `${text}\nextras:\n${aliasBomb('  ')}\n`);
  const config = batchConfig('bomb-scenario', dir);
  const r = await cli(['run', config]);
  assertRefusedCleanly(r, { file: 'scenario.yaml', pattern: /alias bomb/ });
  assert.ok(!existsSync(join(tmp, 'out-bomb-scenario')), 'nothing written');
});

test('an alias bomb in a batch config (as a variation\'s values) is refused the same way', async () => {
  const dir = scenario('plain');
  const config = batchConfig(
    'bomb-batch',
    dir,
    `bomb:\n${aliasBomb('  ')}\nvariations:\n  - type: model\n    actor: council\n    values: *l9\n`,
  );
  for (const args of [['run', config], ['run', config, '--dry-run'], ['validate', config]]) {
    const r = await cli(args);
    assertRefusedCleanly(r, { file: 'bomb-batch.yaml', pattern: /alias bomb/ });
  }
  assert.ok(!existsSync(join(tmp, 'out-bomb-batch')), 'nothing written');
});

test('a YAML file over the size limit is refused before it is parsed; the limit can be raised', async () => {
  const filler = `  ${'x'.repeat(99)}\n`.repeat(Math.ceil((11 << 20) / 102));
  const dir = scenario('huge', (text) => text.replace('description: |\n', `description: |\n${filler}`));
  const config = batchConfig('huge', dir);
  const r = await cli(['run', config]);
  assertRefusedCleanly(r, { file: 'scenario.yaml', pattern: /too big to read: 11\.\d MB, over the 10\.0 MB limit.*SCENARIO_LAB_MAX_YAML_MB=12/s });
  assert.ok(!existsSync(join(tmp, 'out-huge')), 'nothing written');

  const raised = await cli(['validate', dir], { SCENARIO_LAB_MAX_YAML_MB: '12' });
  assert.equal(raised.code, 0, raised.stderr);
  const bad = await cli(['validate', dir], { SCENARIO_LAB_MAX_YAML_MB: 'lots' });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /SCENARIO_LAB_MAX_YAML_MB must be a number of megabytes/);
});

test('a 200,000-deep nest is refused with its line quoted around the column, not echoed whole', async () => {
  const dir = scenario('deep', (text) => `${text}\nextras: ${'['.repeat(200_000)}\n`);
  const r = await cli(['validate', dir]);
  assertRefusedCleanly(r, { file: 'scenario.yaml', pattern: /nests lists and mappings more than 200 levels deep/ });
  assert.match(r.stderr, /\| …\[{20,}/, r.stderr);
});

test('bytes that are not UTF-8 are refused with their offset, not mended into U+FFFD', async () => {
  const dir = scenario('latin1');
  const actor = join(dir, 'actors', 'council.yaml');
  const text = readFileSync(actor);
  const at = text.indexOf('name:') + 'name: '.length;
  const bytes = Buffer.concat([text.subarray(0, at), Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20]), text.subarray(at)]);
  writeFileSync(actor, bytes);
  const r = await cli(['validate', dir]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /council\.yaml/);
  assert.match(r.stderr, new RegExp(`not UTF-8 text: the byte 0xE9 at offset ${at + 3} \\(line \\d+, column \\d+\\)`, 's'));
  assert.doesNotMatch(r.stderr, /\uFFFD/);
  assert.doesNotMatch(r.stderr, /has no file/, 'a file that cannot be read is not also reported missing');
});
