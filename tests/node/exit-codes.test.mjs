// The exit status table (src/error.rs, `ErrorKind::exit_code`) as a user meets it: whichever
// command hits it, a storage failure underneath exits 1 and a request the user can fix exits 2.
// A storage failure is provoked the way a real disk gives one even to root: the output path runs
// through a regular file, so every write under it fails with ENOTDIR.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli } from './run-cli.mjs';

let tmp;
let blocker;

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-exit-'));
  blocker = join(tmp, 'a-file');
  writeFileSync(blocker, 'not a folder\n');
});

after(() => rmSync(tmp, { recursive: true, force: true }));

function batchConfig(name, outputDir) {
  const path = join(tmp, `${name}.yaml`);
  writeFileSync(
    path,
    [
      `experiment_name: "${name}"`,
      `base_scenario: "${join(ROOT, 'scenarios/quick-negotiation')}"`,
      'runs_per_variation: 1',
      'max_parallel: 1',
      'variations: []',
      `output_dir: "${outputDir}"`,
      'aggregate_metrics: false',
      '',
    ].join('\n'),
  );
  return path;
}

/** Asserts the exit status, showing what the CLI printed when it is not the one expected. */
function exits(r, code, what) {
  assert.equal(r.code, code, `${what}: exit ${r.code}, expected ${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

test('run: an output folder that cannot be written exits 1; a bad flag exits 2', async () => {
  const config = batchConfig('blocked', join(blocker, 'out'));
  const r = await runCli(['run', config]);
  exits(r, 1, 'run into a path through a file');
  assert.match(r.stderr, /storage|ENOTDIR|not a directory/i);
  exits(await runCli(['run', config, '--max-parallel', 'many']), 2, 'run with a bad flag value');
});

test('scenario: an --output that cannot be written exits 1', async () => {
  const r = await runCli(['scenario', join(ROOT, 'scenarios/quick-negotiation'), '--output', join(blocker, 'run')]);
  exits(r, 1, 'scenario into a path through a file');
});

test('merge: a folder that is not a batch output exits 2; an output that cannot be written exits 1', async () => {
  const empty = join(tmp, 'empty');
  mkdirSync(empty, { recursive: true });
  exits(await runCli(['merge', empty, '--output', join(tmp, 'merged')]), 2, 'merge of a folder that is no batch output');

  // A real shard output, merged into a path through a file.
  const config = batchConfig('shard', join(tmp, 'shard-out'));
  exits(await runCli(['run', config]), 0, 'the shard runs');
  const r = await runCli(['merge', join(tmp, 'shard-out'), '--output', join(blocker, 'merged')]);
  exits(r, 1, 'merge into a path through a file');
});

test('analyze: a folder that is not a batch output exits 2; an analysis folder that cannot be written exits 1', async () => {
  exits(await runCli(['analyze', join(tmp, 'nowhere')]), 2, 'analyze of a missing folder');
  const copy = join(tmp, 'analysed');
  cpSync(join(tmp, 'shard-out'), copy, { recursive: true });
  rmSync(join(copy, 'analysis'), { recursive: true, force: true });
  writeFileSync(join(copy, 'analysis'), 'a file where the analysis folder goes\n');
  exits(await runCli(['analyze', copy]), 1, 'analyze writing into a path through a file');
});
