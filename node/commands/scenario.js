// node/commands/scenario.js: `scenario-lab scenario`: one run, new (<scenario-dir>), resumed
// (--resume DIR) or branched (--branch-from DIR --at-turn K), run by the core to its end.

import { UsageError, count, seconds, usd } from '../flags.js';
import { connection } from '../connection.js';
import { editorCommand, terminalPerson } from '../person.js';
import { dirFacts, nodeStorage } from '../storage.js';
import { EXIT, colorFor, confirm, err, out, paint, plural } from '../output.js';

export async function scenario(api, values, positionals) {
  const resuming = values.resume !== undefined || values['branch-from'] !== undefined;
  if (positionals.length !== (resuming ? 0 : 1)) {
    throw new UsageError(resuming ? 'with --resume or --branch-from, give no scenario folder' : 'scenario needs a scenario folder', 'scenario');
  }
  if (values['branch-from'] !== undefined && values['at-turn'] === undefined) throw new UsageError('--branch-from needs --at-turn K', 'scenario');
  if (values.editor && !editorCommand()) throw new UsageError('--editor needs $EDITOR (or $VISUAL) set to an editor command', 'scenario');
  const costLimit = usd(values, 'cost-limit', 'scenario');
  const request = {
    scenarioDir: positionals[0],
    output: values.output,
    turns: count(values, 'turns', 1, 'scenario'),
    modelOverrides: values['model-override'] ?? [],
    human: values.human ?? [],
    seed: count(values, 'seed', 0, 'scenario'),
    maxTokens: count(values, 'max-tokens', 1, 'scenario'),
    costLimit,
    callTimeout: seconds(values, 'call-timeout', 'scenario'),
    resume: values.resume,
    branchFrom: values['branch-from'],
    atTurn: count(values, 'at-turn', 1, 'scenario'),
    yes: Boolean(values.yes),
  };
  const { runScenario, checkRunOutput } = await api();
  if (values.output !== undefined) {
    // The core's output-folder policy (src/outdir.rs): no root, system or home folder, and no
    // one else's non-empty folder without --force; a folder that is a link is said.
    for (const n of checkRunOutput(dirFacts(values.output), { force: Boolean(values.force) })) err(`scenario-lab: ${n}`);
  }
  // A seat a person plays is asked on this terminal; off one, the core refuses such a run.
  const askPerson = terminalPerson({ editor: Boolean(values.editor) });
  const outcome = await runConfirmed(runScenario, request, connection(values), askPerson);
  const json = Boolean(values.json);
  if (json) {
    out(JSON.stringify(outcome, null, 2));
  } else {
    const color = colorFor(process.stdout, false);
    const cost = `$${outcome.total_cost.toFixed(6)}`;
    const calls = `${plural(outcome.calls_sent, 'call')} sent, ${outcome.calls_replayed} replayed from the call log`;
    if (outcome.status === 'completed') {
      out(`${paint('green', 'completed', process.stdout, color)} ${plural(outcome.current_turn, 'turn')} in ${outcome.dir} (${cost}; ${calls})`);
    } else {
      out(`${paint('red', outcome.status, process.stdout, color)} after ${plural(outcome.current_turn, 'turn')} in ${outcome.dir} (${outcome.halt_reason ?? ''}${outcome.error ? `: ${outcome.error}` : ''}; ${cost}; ${calls})`);
    }
  }
  if (outcome.status !== 'completed') {
    err(`scenario-lab: the run stopped early; continue it with: scenario-lab scenario --resume ${outcome.dir}`);
    process.exitCode = EXIT.failure;
  } else {
    process.exitCode = EXIT.ok;
  }
}

/**
 * Runs the scenario; a run the core finds too large to start without asking (more than 1,000
 * turns) is asked about on a terminal and started again with `yes`, and refused elsewhere (the
 * core's error, exit 2, says to pass --yes). Nothing is written before the core asks.
 */
async function runConfirmed(runScenario, request, conn, askPerson) {
  try {
    return await runScenario(request, nodeStorage(), conn, askPerson);
  } catch (e) {
    if (!e?.needsConfirmation || !process.stdin.isTTY || !process.stderr.isTTY) throw e;
    err(`scenario-lab: ${e.message}`);
    if (!(await confirm('Continue? [y/N] '))) throw e;
    return runScenario({ ...request, yes: true }, nodeStorage(), conn, askPerson);
  }
}
