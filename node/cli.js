#!/usr/bin/env node
// node/cli.js is the command line's entry: it parses argv (node/flags.js), prints help
// (node/help.js) and hands the command to its module in node/commands/, which reaches the wasm
// core through ./wasm.js. It decides nothing about configs or plans; that is the core's job.
// Results go to stdout; diagnostics, warnings and errors go to stderr, errors prefixed
// `scenario-lab:` (node/output.js, which also holds the exit-code table).
//
// Exit codes are set through `process.exitCode`, never `process.exit` (except on a second
// Ctrl+C), so pending output is flushed and any `finally` blocks run.

// A batch writes many small files from many runs at once, through libuv's thread pool (4 threads
// by default): more threads keep those writes off the runs' critical path (bench/README.md).
process.env.UV_THREADPOOL_SIZE ??= '16';

import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { UsageError, parse } from './flags.js';
import { HELP_TOPICS, helpText } from './help.js';
import { EXIT, err, out, reportError, usageError } from './output.js';
import { analyze } from './commands/analyze.js';
import { init } from './commands/init.js';
import { merge } from './commands/merge.js';
import { run } from './commands/run.js';
import { scenario } from './commands/scenario.js';
import { serve } from './commands/serve.js';
import { validate } from './commands/validate.js';

const PKG = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** The commands that need the wasm core, by name. */
const COMMANDS = { init, validate, scenario, run, analyze, merge };

async function main(argv) {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    usageError(await withGuess(e));
    return;
  }
  const { command, values, positionals } = parsed;

  if (values.version) {
    out(PKG.version);
    return;
  }
  if (command === null || command === 'help') {
    const topic = command === 'help' ? positionals[0] : undefined;
    if (topic !== undefined && !HELP_TOPICS.includes(topic)) {
      usageError(new UsageError(`no help for '${topic}' (commands: ${HELP_TOPICS.join(', ')})`));
      return;
    }
    if (command === null && !values.help) {
      // No command at all: the help, but as a usage error.
      err(helpText('main'));
      process.exitCode = EXIT.usage;
      return;
    }
    out(helpText(topic ?? 'main'));
    return;
  }
  if (values.help) {
    out(helpText(command));
    return;
  }

  if (command === 'serve') {
    await serve(values, positionals);
    return;
  }

  // The wasm is loaded only once there is work for it, so --help and usage errors stay instant
  // and work even when the wasm is not built.
  try {
    await COMMANDS[command](loadApi, values, positionals);
  } catch (e) {
    if (e instanceof UsageError) usageError(e);
    else reportError(e);
  }
}

/**
 * Completes a usage error's message with the core's "did you mean" (the one config keys get).
 * The wasm is loaded only for this; when it is not built, the message goes without a guess.
 */
async function withGuess(e) {
  if (!e.guess) return e;
  let guess = null;
  try {
    guess = (await loadApi()).suggest(e.guess.word, e.guess.candidates) ?? null;
  } catch {
    guess = null;
  }
  e.message = e.guess.message(guess);
  return e;
}

async function loadApi() {
  // The CLI runs the wasm core on V8's baseline compiler only (Liftoff): its optimising tier
  // compiles the hot parts of a 1 MB module again, which cost 25 MB of peak memory and some CPU
  // for no measurable gain in a batch (network-bound) and 10% in a 100,000-run analysis
  // (bench/README.md). A library user's process keeps its own flags: this is the CLI's only.
  setFlagsFromString('--liftoff-only');
  let api;
  try {
    api = await import('./wasm.js');
  } catch (e) {
    if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'ENOENT') {
      const where = new URL('../pkg/', import.meta.url).pathname;
      const error = new Error(`the wasm core is not built (${where} is missing or incomplete); run 'npm run build'`);
      Object.assign(error, { kind: 'storage', exitCode: EXIT.failure });
      throw error;
    }
    throw e;
  }
  // The one limit a person may raise from outside a config (docs/batch-guide.md, "Limits").
  const maxYaml = process.env.SCENARIO_LAB_MAX_YAML_MB;
  if (maxYaml !== undefined && maxYaml !== '') api.setMaxYamlMegabytes(maxYaml);
  return api;
}

// A closed pipe (`scenario-lab run ... | head`) ends the output quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exitCode ??= EXIT.ok;
    else throw e;
  });
}

await main(process.argv.slice(2));
