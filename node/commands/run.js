// node/commands/run.js: `scenario-lab run <batch-config>`: the dry run (the plan, and once runs
// exist the estimate of the rest), and the batch itself: its sessions (the progress line,
// Ctrl+C, the closing summary), the pilot and its question, and the exit code of the outcome.

import { UsageError, count, seconds, usd } from '../flags.js';
import { connection, fetchModels, modelSource, reportUnknownModels } from '../connection.js';
import { dirFacts, nodeStorage, readOnlyStorage } from '../storage.js';
import { terminalPerson } from '../person.js';
import { Progress, summary } from '../progress.js';
import { EXIT, colorFor, confirm, err, out, paint, plural } from '../output.js';

export async function run(api, values, positionals) {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0 ? 'run needs a batch config' : `run takes one batch config, got ${positionals.length}`,
      'run',
    );
  }
  if (values['dry-run'] && values.pilot !== undefined) {
    throw new UsageError('--pilot runs a pilot and --dry-run runs nothing: give one of them (a dry run after a pilot estimates the rest)', 'run');
  }
  if (values['dry-run']) await dryRun(api, values, positionals[0]);
  else await runBatch(api, values, positionals[0]);
}

/**
 * `--shard K/N` or `--shard auto` (with `--shards N`), resolved by the core from the scheduler
 * variables it reads; says what auto found. Undefined without --shard.
 */
async function resolveShard(api, values) {
  if (values.shard === undefined) {
    if (values.shards !== undefined) throw new UsageError('--shards N goes with --shard auto', 'run');
    return undefined;
  }
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => SHARD_VARIABLE.test(k)));
  let resolved;
  try {
    resolved = (await api()).resolveShard(values.shard, count(values, 'shards', 1, 'run'), env);
  } catch (e) {
    throw new UsageError(e.message, 'run');
  }
  if (resolved.found) err(`scenario-lab: --shard auto: ${resolved.found}`);
  return resolved.shard;
}

/** The environment variables `--shard auto` reads (src/batch/shard.rs). */
const SHARD_VARIABLE = /^(JOB_COMPLETION_INDEX|SCENARIO_LAB_SHARD_COUNT|SLURM_ARRAY_TASK_\w+)$/;

/** The plan, and the estimate of the rest once runs exist; writes nothing. */
async function dryRun(api, values, path) {
  const json = Boolean(values.json);
  const source = modelSource(values);
  const options = {};
  const list = source.key ? await fetchModels(source.base, source.key, 'prices') : null;
  if (list !== null) options.openrouterModels = list;

  // A dry run gets a storage that refuses writes: "writes nothing" is enforced, not hoped for.
  const storage = readOnlyStorage(nodeStorage());
  const { planBatch, calibrateBatch, renderCalibration, checkModels } = await api();
  options.shard = await resolveShard(api, values);
  options.budgetLimit = usd(values, 'budget-limit', 'run');
  options.outputDir = values.output;
  const plan = await planBatch(path, storage, options);
  plan.command = runCommand(path, values);
  // Once runs exist, the rest of the batch is estimated from what their calls used.
  const calibration = await calibrateBatch(path, storage, options);
  if (calibration.runs_recorded > 0) calibration.command = runCommand(path, values, { resume: true });
  const check = list !== null ? await checkModels(path, storage, list) : null;
  if (json) {
    out(JSON.stringify({ ...plan, calibration, ...(check ? { model_check: check } : {}) }, null, 2));
  } else {
    out(renderCalibration(calibration, { plan, color: colorFor(process.stdout, json) }));
  }
  if (check && check.unknown.length) {
    reportUnknownModels(check, source.base, 'error');
    process.exitCode = EXIT.invalid;
    return;
  }
  process.exitCode = EXIT.ok;
}

async function runBatch(api, values, path) {
  const json = Boolean(values.json);
  const shard = await resolveShard(api, values);
  const budgetLimit = usd(values, 'budget-limit', 'run');
  const pilot = count(values, 'pilot', 1, 'run');
  const conn = connection(values);
  const execution = values.execution;
  if (execution !== undefined && execution !== 'realtime' && execution !== 'batch') {
    throw new UsageError(`--execution must be realtime or batch, not '${execution}'`, 'run');
  }
  const options = {
    resume: Boolean(values.resume), budgetLimit, shard, outputDir: values.output, pilot, execution, callTimeout: seconds(values, 'call-timeout', 'run'),
    // A new batch's seed (a resumed batch keeps the one it recorded); 0 lets the host draw one.
    freshSeed: count(values, 'seed', 1, 'run') ?? 0,
  };
  const source = modelSource(values);
  const list = source.key ? await fetchModels(source.base, source.key, 'prices') : null;
  if (list !== null) {
    options.openrouterModels = list;
    // Every model id the batch calls must be one the provider lists, before anything is written.
    const check = await (await api()).checkModels(path, nodeStorage(), list);
    if (check && check.unknown.length) {
      reportUnknownModels(check, source.base, 'error');
      err(NOT_STARTED);
      process.exitCode = EXIT.invalid;
      return;
    }
  }
  if (!(await guards(api, path, values, options, json))) return;
  const outcome = await batchSession(api, path, conn, options, { json, values, budgetLimit });
  if (!outcome) return;
  if (pilot === undefined || !endedClean(outcome) || outcome.runs_pending === 0) {
    process.exitCode = exitFor(outcome, shard);
    return;
  }

  // The pilot is done: estimate the rest from what its calls used, then ask (on a terminal).
  const { calibrateBatch, renderCalibration } = await api();
  const calibration = await calibrateBatch(path, nodeStorage(), { openrouterModels: options.openrouterModels, budgetLimit, outputDir: options.outputDir });
  calibration.command = runCommand(path, values, { resume: true });
  if (json) out(JSON.stringify({ type: 'calibration', data: calibration }));
  else out(`\n${renderCalibration(calibration, { color: colorFor(process.stdout, json) })}`);
  const terminal = !json && process.stdin.isTTY && process.stderr.isTTY;
  if (!terminal || !(await confirm(`${calibration.question} [y/N] `))) {
    err(`scenario-lab: the pilot is done; the remaining ${plural(calibration.remaining_runs, 'run')} ${calibration.remaining_runs === 1 ? 'waits' : 'wait'} for: ${calibration.command}`);
    process.exitCode = EXIT.ok;
    return;
  }
  const rest = await batchSession(api, path, conn, { ...options, resume: true, pilot: undefined }, { json, values, budgetLimit });
  if (rest) process.exitCode = exitFor(rest, shard);
}

const NOT_STARTED = 'scenario-lab: the batch was not started: nothing was written and no request was sent';

/**
 * The checks before anything is written, both decided by the core: the output folder (a root,
 * a system or home folder, someone else's files without --force) and the sizes that need
 * confirming (src/plan/confirm.rs), asked on a terminal and refused elsewhere without --yes.
 * Planning costs what planning 20,000 variations costs, whatever the number of runs or turns.
 * Resolves to whether the batch may start; when not, the exit code is set.
 */
async function guards(api, path, values, options, json) {
  const { planBatch, checkBatchOutput } = await api();
  const storage = nodeStorage();
  const plan = await planBatch(path, readOnlyStorage(storage), { openrouterModels: options.openrouterModels, budgetLimit: options.budgetLimit, outputDir: options.outputDir });
  const notes = await checkBatchOutput(path, readOnlyStorage(storage), dirFacts(plan.output_dir), { force: Boolean(values.force), outputDir: options.outputDir });
  for (const n of notes) err(`scenario-lab: ${n}`);
  if (plan.confirm.length === 0 || values.yes) return true;
  const terminal = !json && process.stdin.isTTY && process.stderr.isTTY;
  if (terminal) {
    for (const c of plan.confirm) err(`scenario-lab: ${c.message} (${c.line ? `${c.file}:${c.line}` : c.file})`);
    if (await confirm('This is larger than Scenario Lab runs without asking. Continue? [y/N] ')) return true;
    err(NOT_STARTED);
  } else {
    for (const c of plan.confirm) err(c.text);
    const n = plan.confirm.length;
    const color = colorFor(process.stderr, false);
    err(`scenario-lab: ${paint('red', 'error:', process.stderr, color)} ${n === 1 ? 'this size needs' : `these ${n} sizes need`} confirming, and there is no terminal to ask on: pass --yes to start the batch anyway (the dry run, --dry-run, shows the figures)`);
    err(NOT_STARTED);
  }
  process.exitCode = EXIT.invalid;
  return false;
}

/** 0 when the batch (or the shard's share of it) completed, else 1: it resumes with --resume. */
function exitFor(outcome, shard) {
  // A shard's pending runs belong to other machines: it is done when nothing of its own is left.
  // Runs a stopping rule made unnecessary are done too.
  const done = outcome.runs_completed + (outcome.runs_not_needed ?? 0) === outcome.total_runs;
  return endedClean(outcome) && (shard || done) ? EXIT.ok : EXIT.failure;
}

/** Whether a session stopped for no reason but running out of runs, with none failed or halted. */
function endedClean(outcome) {
  return !outcome.stop_reason && outcome.runs_failed === 0 && outcome.runs_halted === 0;
}

/** One call of runBatch with its progress line, Ctrl+C handling and summary; the outcome. */
async function batchSession(api, path, conn, options, { json, values, budgetLimit }) {
  const live = !json && !values['no-progress'] && process.stderr.isTTY && process.env.TERM !== 'dumb';
  const progress = new Progress(process.stderr, { live });
  let stops = 0;
  const onSigint = () => {
    stops++;
    if (stops === 1) {
      progress.line('scenario-lab: stopping: no new run starts, calls in flight finish, then everything is saved (Ctrl+C again to exit at once)');
    } else {
      progress.stop();
      err(`scenario-lab: exiting now; the files on disk are consistent. Resume with: npx scenario-lab run ${path} --resume`);
      process.exit(130);
    }
  };
  process.on('SIGINT', onSigint);
  const started = Date.now();
  progress.start();
  let outcome;
  let begun = null;
  try {
    const { runBatch } = await api();
    outcome = await runBatch(path, nodeStorage(), conn, {
      ...options,
      // A seat a person plays is asked on this terminal; the status line then gives way to
      // plain lines, so that it does not redraw over the question.
      askPerson: terminalPerson({ editor: Boolean(values.editor), onAsk: () => progress.quiet() }),
      shouldStop: () => stops > 0,
      onEvent: (e) => {
        if (e.type === 'batch_started') begun = e.data;
        if (json) out(JSON.stringify(e));
        else progress.event(e);
      },
    });
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
  }
  if (!json) {
    const shard = options.shard && begun ? { label: options.shard, runs: begun.in_shard, budget: begun.budget_limit } : null;
    let text = summary(outcome, { configPath: path, started, budget: budgetLimit ?? null, analysis: progress.analysis, shard, resume: runCommand(path, values, { resume: true }) });
    if (options.pilot !== undefined && !outcome.stop_reason) {
      // The runs a pilot leaves are not a failure to report: the estimate of the rest follows.
      text = text.split('\n').filter((l) => !l.startsWith('Some runs did not complete')).join('\n');
      text += `\nPilot: ${plural(options.pilot, 'run')} of each variation.`;
    }
    err(text);
  }
  return outcome;
}

/** The command that runs (or with `resume`, continues) this batch, with the flags that matter for it. */
function runCommand(path, values, { resume = false } = {}) {
  const parts = ['npx scenario-lab run', path];
  if (resume) parts.push('--resume');
  else if (values.seed !== undefined) parts.push('--seed', values.seed);
  for (const flag of ['budget-limit', 'base-url', 'shard', 'shards', 'output']) {
    if (values[flag] !== undefined) parts.push(`--${flag}`, values[flag]);
  }
  return parts.join(' ');
}

