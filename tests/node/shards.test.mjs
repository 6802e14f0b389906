// The scheduler examples of docs/examples/ run as written (issue 16): the Kubernetes Indexed
// Job, the Slurm job array and the GitHub Actions matrix. The test reads each file, takes the
// commands and variables it uses, starts its four shards at once with that scheduler's
// environment (`npx` is a shim that runs this checkout's CLI), merges them with the file's own
// merge command, and checks the merged tree equals a one-process run of the same batch (same
// seed): the same run folders with the same files, apart from timings, which are normalised:
// `latency_ms` in llm-calls.jsonl and the order of its lines (concurrent calls are logged as
// they answer), and the `[+1.234s]` stamps of scenario.log. So the docs
// cannot drift from what works. Offline: experiments/sharded plays the built-in simulator.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CLI = join(ROOT, 'node', 'cli.js');
const EXAMPLES = join(ROOT, 'docs', 'examples');
const CONFIG = 'experiments/sharded/batch-config.yaml';

let tmp;
let bin;
let whole;

/** A copy of the project as a machine (or a pod's image) holds it: the scenarios and the config. */
function project(dir) {
  mkdirSync(join(dir, 'experiments', 'sharded'), { recursive: true });
  cpSync(join(ROOT, 'scenarios'), join(dir, 'scenarios'), { recursive: true });
  cpSync(join(ROOT, CONFIG), join(dir, CONFIG));
  return dir;
}

/** Runs a shell script (`sh -c` text, or a file with bash) with the shim first on PATH. */
function shell(script, cwd, env = {}, { file = false } = {}) {
  return new Promise((done) => {
    const child = spawn(file ? 'bash' : 'sh', file ? [script] : ['-c', script], {
      cwd,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1', OPENROUTER_API_KEY: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/** Every file under `dir/runs`, by path, with its timings normalised. */
function runFiles(dir) {
  const files = {};
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        let text = readFileSync(p, 'utf8');
        // Calls made at once are logged as they answer: their order is a timing too.
        if (name === 'llm-calls.jsonl') text = text.replace(/"latency_ms":[\d.]+/g, '"latency_ms":0').split('\n').sort().join('\n');
        if (name === 'scenario.log') text = text.replace(/\[\+[\d.]+s\]/g, '[+s]');
        files[relative(dir, p)] = text;
      }
    }
  };
  walk(join(dir, 'runs'));
  return files;
}

/** The merged tree holds what the one-process run holds, with the same seed and money. */
function sameAsOneProcess(merged) {
  const expected = runFiles(whole);
  assert.equal(Object.keys(expected).filter((f) => f.endsWith('scenario-state.json')).length, 8);
  assert.deepEqual(runFiles(merged), expected);
  const state = (d) => JSON.parse(readFileSync(join(d, 'batch-state.json'), 'utf8'));
  assert.equal(state(merged).seed, 42);
  assert.equal(state(merged).shard, null);
  assert.deepEqual(state(merged).completed_runs, state(whole).completed_runs);
  const costs = (d) => JSON.parse(readFileSync(join(d, 'batch-costs.json'), 'utf8')).summary;
  assert.equal(costs(merged).total_spent_nanos, costs(whole).total_spent_nanos);
  assert.equal(costs(merged).budget_limit, 2, "the shards' shares add up to the batch's budget");
}

/** What every shard says: what it found, and its share of the runs and of the budget. */
function saysItsShare(r, k) {
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout + r.stderr, new RegExp(`shard ${k}/4: 2 of the batch's 8 runs .*\\$0\\.5000 of the batch's \\$2\\.00 budget`));
  // Its summary counts its own runs against its own budget: a finished shard has nothing to resume.
  assert.match(r.stderr, new RegExp(`Completed 2 of shard ${k}/4's 2 runs \\(the batch has 8\\) · 0 failed · 0 halted · 0 not run`));
  assert.match(r.stderr, /Spent \$0\.00 of \$0\.50/);
  assert.doesNotMatch(r.stderr, /did not complete/);
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-shards-'));
  bin = join(tmp, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'npx'), `#!/bin/sh\n[ "$1" = scenario-lab ] && shift\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(bin, 'npx'), 0o755);
  const dir = project(join(tmp, 'one-process'));
  const r = await shell(`npx scenario-lab run ${CONFIG} --seed 42`, dir);
  assert.equal(r.status, 0, r.stderr);
  whole = join(dir, 'experiments', 'sharded');
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('the Kubernetes Indexed Job example: four pods with --shard auto, then the merge Job', async () => {
  const [job, mergeJob] = readFileSync(join(EXAMPLES, 'k8s-indexed-job.yaml'), 'utf8').split(/^---$/m);
  const script = (doc) => {
    const m = /args:\n(\s*)- \|\n((?:\1  .*\n)+)/.exec(doc);
    assert.ok(m, `no 'args: - |' block in:\n${doc}`);
    return m[2].split('\n').map((l) => l.slice(m[1].length + 2)).join('\n');
  };
  const completions = Number(/completions: (\d+)/.exec(job)[1]);
  const count = /name: SCENARIO_LAB_SHARD_COUNT\n\s+value: "(\d+)"/.exec(job)[1];
  assert.equal(Number(count), completions, 'the manifest sets the shard count to its completions');
  assert.match(job, /completionMode: Indexed/);
  const mount = /mountPath: (\/\S+?)[,}\s]/.exec(job)[1];
  const volume = join(tmp, 'k8s-volume');
  mkdirSync(volume);
  const onVolume = (text) => text.replaceAll(mount, volume);
  const pods = await Promise.all(
    Array.from({ length: completions }, (_, i) =>
      shell(onVolume(script(job)), project(join(tmp, `k8s-pod-${i}`)), { JOB_COMPLETION_INDEX: String(i), SCENARIO_LAB_SHARD_COUNT: count }),
    ),
  );
  pods.forEach((r, i) => {
    saysItsShare(r, i + 1);
    assert.match(r.stderr, new RegExp(`--shard auto: a Kubernetes Indexed Job: JOB_COMPLETION_INDEX=${i} .* make this shard ${i + 1}/4`));
  });
  // A pod that Kubernetes retries resumes its shard: nothing is run twice.
  const retried = await shell(onVolume(script(job)), join(tmp, 'k8s-pod-1'), { JOB_COMPLETION_INDEX: '1', SCENARIO_LAB_SHARD_COUNT: count });
  assert.equal(retried.status, 0, retried.stderr);
  assert.match(retried.stderr, /Resuming sharded: 0 of 8 runs to do \(2 already completed\)/);
  const m = await shell(onVolume(script(mergeJob)), project(join(tmp, 'k8s-merge-pod')));
  assert.equal(m.status, 0, m.stderr);
  assert.match(m.stdout, /merged shards 1\/4, 2\/4, 3\/4, 4\/4 .*8 of 8 runs completed.* of the batch's \$2\.00 budget/);
  sameAsOneProcess(join(volume, 'merged'));
});

test('the Slurm job array example: four tasks with --shard auto, then the merge', async () => {
  const path = join(EXAMPLES, 'slurm-array.sh');
  const text = readFileSync(path, 'utf8');
  const [, min, max] = /^#SBATCH --array=(\d+)-(\d+)$/m.exec(text).map(Number);
  const submit = project(join(tmp, 'slurm-cluster'));
  const tasks = await Promise.all(
    Array.from({ length: max - min + 1 }, (_, i) =>
      shell(path, submit, {
        SLURM_SUBMIT_DIR: submit,
        SLURM_ARRAY_TASK_ID: String(min + i),
        SLURM_ARRAY_TASK_MIN: String(min),
        SLURM_ARRAY_TASK_MAX: String(max),
        SLURM_ARRAY_TASK_COUNT: String(max - min + 1),
        SLURM_ARRAY_TASK_STEP: '1',
      }, { file: true }),
    ),
  );
  tasks.forEach((r, i) => {
    saysItsShare(r, i + 1);
    assert.match(r.stderr, new RegExp(`a Slurm job array: SLURM_ARRAY_TASK_ID=${min + i} .* makes this shard ${i + 1}/4`));
  });
  const merge = /--wrap "(npx scenario-lab merge [^"]+)"/.exec(text)[1];
  const m = await shell(merge, submit);
  assert.equal(m.status, 0, m.stderr);
  sameAsOneProcess(join(submit, 'experiments', 'sharded-merged'));
});

test('the GitHub Actions matrix example: four jobs with --shard K/N, then the merge job', async () => {
  const text = readFileSync(join(EXAMPLES, 'github-matrix.yml'), 'utf8');
  const matrix = /shard: \[([\d, ]+)\]/.exec(text)[1].split(',').map((s) => Number(s));
  const run = /- run: (npx scenario-lab run .*)/.exec(text)[1];
  const merge = /- run: (npx scenario-lab merge .*)/.exec(text)[1];
  const artifact = /path: (\S+)\n/.exec(text.slice(text.indexOf('upload-artifact')))[1];
  const download = /download-artifact@v\d+\n\s+with:\n\s+path: (\S+)/.exec(text)[1];
  // Each job runs on a machine of its own.
  const jobs = await Promise.all(
    matrix.map((k) =>
      shell(run.replaceAll('${{ matrix.shard }}', k).replaceAll('${{ strategy.job-total }}', matrix.length), project(join(tmp, `gha-runner-${k}`))),
    ),
  );
  jobs.forEach((r, i) => saysItsShare(r, matrix[i]));
  // download-artifact puts each artifact in a folder named after it.
  const runner = project(join(tmp, 'gha-merge-runner'));
  for (const k of matrix) cpSync(join(tmp, `gha-runner-${k}`, artifact), join(runner, download, `shard-${k}`), { recursive: true });
  const m = await shell(merge, runner);
  assert.equal(m.status, 0, m.stderr);
  sameAsOneProcess(join(runner, 'experiments', 'sharded-merged'));
});

test('--shard counts from 1, and auto says what it needs', async () => {
  const dir = project(join(tmp, 'mistakes'));
  const cases = [
    [['--shard', '0/4'], {}, /--shard 0\/4: shards count from 1.*the first of 4 is 1\/4/],
    [['--shard', '5/4'], {}, /K must be from 1 to 4/],
    [['--shard', '2/4'], {}, /needs --seed N, the same for every shard/],
    [['--shard', 'auto', '--seed', '1'], {}, /found no shard in the environment.*JOB_COMPLETION_INDEX.*SLURM_ARRAY_TASK_ID.*--shard K\/N/],
    [['--shard', 'auto', '--seed', '1'], { JOB_COMPLETION_INDEX: '1' }, /JOB_COMPLETION_INDEX=1 gives this pod's index but not the number of shards: give --shards N .* SCENARIO_LAB_SHARD_COUNT/],
    [['--shard', 'auto', '--shards', '4', '--seed', '1'], { JOB_COMPLETION_INDEX: '4' }, /JOB_COMPLETION_INDEX=4 is out of range for --shards 4/],
    [['--shard', 'auto', '--seed', '1'], { SLURM_ARRAY_TASK_ID: 'x', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' }, /SLURM_ARRAY_TASK_ID is 'x', not a whole number/],
    [['--shard', '1/4', '--seed', '1', '--output', '/'], {}, /--output: the output folder `\/` is a filesystem root/],
  ];
  for (const [args, env, message] of cases) {
    const r = await shell(`npx scenario-lab run ${CONFIG} ${args.join(' ')}`, dir, env);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const k8s = await shell(`npx scenario-lab run ${CONFIG} --shard auto --shards 4 --dry-run`, dir, { JOB_COMPLETION_INDEX: '3' });
  assert.equal(k8s.status, 0, k8s.stderr);
  assert.match(k8s.stdout, /shard 4\/4: 2 of the batch's 8 runs .*\$0\.5000 of the batch's \$2\.00 budget/);
  const out = await shell(`npx scenario-lab run ${CONFIG} --shard 2/4 --seed 3 --output shards/two --dry-run`, dir);
  assert.match(out.stdout, /Output +shards\/two\n[\s\S]*npx scenario-lab run \S+ --seed 3 --shard 2\/4 --output shards\/two\n/);
  assert.deepEqual(readdirSync(join(dir, 'experiments', 'sharded')), ['batch-config.yaml'], 'nothing was written');
});
