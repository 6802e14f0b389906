#!/usr/bin/env node
// node/cli.js owns the command line: argument parsing, help text, colour, the exit-code table,
// and turning the core's results and errors into output. It decides nothing about configs or
// plans; that is the wasm core's job (reached through ./wasm.js). Results go to stdout;
// diagnostics, warnings and errors go to stderr, errors prefixed `scenario-lab:`.
//
// Exit codes are decided in one place (EXIT below, used by main()) and we set
// `process.exitCode` instead of calling `process.exit`, so pending output is flushed and any
// `finally` blocks run.

// A batch writes many small files from many runs at once, through libuv's thread pool (4 threads
// by default): more threads keep those writes off the runs' critical path (bench/README.md).
process.env.UV_THREADPOOL_SIZE ??= '16';

import { parseArgs, styleText } from 'node:util';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { randomInt } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { confinedStorage, nodeStorage, readOnlyStorage } from './storage.js';
import { Progress, summary } from './progress.js';

const EXIT = { ok: 0, failure: 1, usage: 2, invalid: 2 };
const DEFAULT_BASE_URL = 'https://openrouter.ai/api/v1';
const MODELS_TIMEOUT_MS = 10_000;

const PKG = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// ---------------------------------------------------------------------------------------------
// Help. Hand-written, in the order: purpose, usage, options (defaults in parentheses),
// environment, exit status, examples.

const EXIT_TABLE = `EXIT STATUS:
    0   success (the config is valid, warnings allowed; or the plan was printed)
    1   failure (a file could not be read, or an internal error)
    2   bad usage, or an invalid config`;

// With a key, the model ids a batch calls are checked against the provider's model list.
const MODEL_CHECK_HELP = `MODEL IDS:
    With a key (OPENROUTER_API_KEY for OpenRouter; SCENARIO_LAB_API_KEY for a server given by
    --base-url or SCENARIO_LAB_BASE_URL), every model id the batch calls is looked up in the
    provider's list (GET <base>/models, 10 s timeout), with a "did you mean" for ids it does
    not list (anthropic/claude-3-5-sonnet-20241022 -> anthropic/claude-3.5-sonnet).
    builtin/, local/ and ollama/ models are not checked. Without a key nothing is fetched.`;

const HELP = {
  main: `scenario-lab ${PKG.version}
Run multi-actor LLM scenario simulations as statistical batch experiments.

USAGE:
    scenario-lab <command> [options]

COMMANDS:
    validate <scenario-dir | batch-config>   check a scenario folder or a batch config
    scenario <scenario-dir>                  run one scenario, end to end
    run <batch-config>                       run a batch (--dry-run: plan it: runs, cost, time)
    analyze <output-dir>                     statistics, comparisons and reports of a batch's results
    merge <dirs...> --output <dir>           combine the outputs of batch shards
    serve [--port N]                         serve the web page on http://127.0.0.1:N/www/
    help [command]                           show this help, or a command's help

OPTIONS:
    -h, --help       show help (also after a command: scenario-lab run --help)
    --version        print the version

ENVIRONMENT:
    NO_COLOR               disable colour (colour is on only when writing to a terminal)
    OPENROUTER_API_KEY     the OpenRouter key for runs, and for current model prices

${EXIT_TABLE}

EXAMPLES:
    scenario-lab validate scenarios/quick-negotiation
    scenario-lab scenario scenarios/quick-negotiation
    scenario-lab run experiments/quick-start/batch-config.yaml --dry-run
    scenario-lab analyze experiments/quick-start --report
`,

  analyze: `scenario-lab analyze
Analyse a batch output folder (the output_dir of a batch config; ours, or one written by the
original Python Scenario Lab) and write <dir>/analysis/:
    metrics-analysis.json       per metric: n, mean, SD, median, quartiles, 95% CI, per-turn means
    variation-statistics.json   the same per variation, success rates (Wilson CI), costs
    patterns.json               factor effects, interactions, pairwise tests, failure modes,
                                cost efficiency, runs needed
    analysis-report.md          the report (printed with --report)
    report.html                 the report with charts, one self-contained file
    runs.csv                    one row per run: factors, status, cost, final metrics
Runs with missing or corrupt files are listed under "Data Problems" and skipped.

USAGE:
    scenario-lab analyze <output-dir> [options]

OPTIONS:
    --report               print the Markdown report on stdout (off)
    --json                 print the whole analysis as one JSON document on stdout (off)
    --success EXPR         what counts as a success, e.g. "cooperation_level >= 6 and
                           tension < 4" (default: the config's success:, else every completed run)
    --half-width X         size the "how many runs" advice for 95% CIs of +/- X (default: 5% of
                           each metric's observed range)
    -h, --help             show this help

EXIT STATUS:
    0   the analysis was written
    1   a file could not be read or written
    2   bad usage, or the folder is not a batch output folder

EXAMPLES:
    scenario-lab analyze experiments/quick-start --report
    scenario-lab analyze experiments/model-comparison --success "cooperation_level >= 6"
`,

  serve: `scenario-lab serve
Serve the web page (www/) and the package files it loads on 127.0.0.1, for local use: open the
printed address in a browser to open, plan, run, resume and browse batches in a tab. The page
keeps its files in the browser's origin-private storage; this server serves only the page and
stores nothing. Any static host serving the package folder works the same.

USAGE:
    scenario-lab serve [options]

OPTIONS:
    --port N           the port (8080; 0 picks a free one)
    -h, --help         show this help

EXIT STATUS:
    0   stopped with Ctrl+C
    2   bad usage, or the port is taken

EXAMPLES:
    scenario-lab serve
    scenario-lab serve --port 9000
`,

  merge: `scenario-lab merge
Combine the output folders of a batch run in shards (run --shard K/N on several machines) into
one output tree: every run folder is copied, and the batch files are rebuilt from the runs.

USAGE:
    scenario-lab merge <shard-dir>... --output <dir>

OPTIONS:
    --output DIR       the merged output folder (required)
    -h, --help         show this help

${EXIT_TABLE}

EXAMPLES:
    scenario-lab merge shard-0/experiments/robustness shard-1/experiments/robustness --output merged
`,

  scenario: `scenario-lab scenario
Run one scenario from turn 1 to its last turn and write every file of the run: world states,
decisions, exchanges, quality checks, metrics.json, costs.json, scenario-state.json,
scenario.log and llm-calls.jsonl (every LLM call). A run that stops (killed, failed, at its cost
limit) resumes with --resume: calls already answered are replayed from llm-calls.jsonl, only
the missing ones are sent, so no call is paid twice.

USAGE:
    scenario-lab scenario <scenario-dir> [options]
    scenario-lab scenario --resume <run-dir>
    scenario-lab scenario --branch-from <run-dir> --at-turn K [--output DIR]

RUN:
    --output DIR           the run folder (output/<scenario>/run-NNN, the next free number)
    --turns N              run N turns instead of the scenario's
    --model-override A=M   actor A (its short_name) is played by model M; 'world=M' sets the
                           world model, which metrics and checks use unless they name their
                           own. Repeat for several actors.
    --seed N               the run's seed (random); recorded, so a run can be reproduced
    --max-tokens N         output cap for every call whose actor sets none (default: by role,
                           actor 800, world 1000, communication 300, metric 40, check 400,
                           summary 600; a scenario's max_tokens: map sets its own)
    --cost-limit USD       stop the run (halted, cost_limit) before a call could pass this spend
    --call-timeout S       seconds one LLM request may take before it is retried (default: 60
                           + its cap at 20 tokens/s, or 5 tokens/s for ollama/ and local/)
    --resume DIR           continue the run in DIR
    --branch-from DIR      a new run that starts from DIR's state after turn K, reusing DIR's
    --at-turn K            calls up to K, then diverges (a new seed)

CONNECTION:
    --base-url URL         any OpenAI-compatible server for every model that is not
                           builtin/, ollama/ or local/ (SCENARIO_LAB_BASE_URL; else OpenRouter)

OUTPUT:
    --json                 print the outcome as one JSON document on stdout (off)
    -h, --help             show this help

MODELS:
    builtin/simulator      the built-in simulator: no network, no key, no cost. It is a
                           simulator for trying the tool and testing scenarios, not a
                           language model.
    ollama/M, local/M      model M on the server at OLLAMA_BASE_URL (http://localhost:11434)
    anything else          OpenRouter (or --base-url)

ENVIRONMENT:
    OPENROUTER_API_KEY     the key sent to OpenRouter (and only there)
    SCENARIO_LAB_BASE_URL  the default for --base-url
    SCENARIO_LAB_API_KEY   the key sent to --base-url, when that server needs one
    OLLAMA_BASE_URL        the root of the local server for ollama/ and local/ models
    NO_COLOR               disable colour

EXIT STATUS:
    0   the run completed
    1   the run stopped early (failed, or halted at its cost limit): resume it with --resume
    2   bad usage, or an invalid scenario

EXAMPLES:
    scenario-lab scenario scenarios/quick-negotiation
    scenario-lab scenario scenarios/city-ai-rollout --turns 2 --model-override vendor=openai/gpt-4o-mini
    scenario-lab scenario --resume output/quick-negotiation/run-001
    scenario-lab scenario --branch-from output/quick-negotiation/run-001 --at-turn 2
`,

  validate: `scenario-lab validate
Check a scenario folder or a batch config and report every problem at once: errors (which make
the input invalid) and warnings (for example unknown keys in scenario and actor files). Each
diagnostic names the file, line and column, what was expected and what was found. For a batch
config, its base scenario is checked too.

USAGE:
    scenario-lab validate <scenario-dir | batch-config> [options]

ARGUMENTS:
    <scenario-dir>     a folder holding scenario.yaml
    <batch-config>     a batch config file (YAML); relative paths inside it are resolved
                       from the current directory first, then from the config's folder

OUTPUT:
    --json             print the validation report as one JSON document on stdout, with
                       model_check when model ids were checked (diagnostics are still
                       printed on stderr) (off)
    --base-url URL     the server whose model list is checked (SCENARIO_LAB_BASE_URL; else
                       ${DEFAULT_BASE_URL})
    -h, --help         show this help

${MODEL_CHECK_HELP}
    For validate an unknown id is a warning.

ENVIRONMENT:
    OPENROUTER_API_KEY     the OpenRouter key: model ids are checked against its list
    SCENARIO_LAB_BASE_URL  the default for --base-url
    SCENARIO_LAB_API_KEY   the key of --base-url's server: model ids are checked against its list
    NO_COLOR               disable colour (colour is on only when writing to a terminal)

${EXIT_TABLE}

EXAMPLES:
    scenario-lab validate scenarios/quick-negotiation
    scenario-lab validate experiments/quick-start/batch-config.yaml --json
`,

  run: `scenario-lab run
Run a batch experiment: every variation x runs_per_variation, up to max_parallel at once,
within its budget, writing <output_dir>/runs/var-XXX-run-YYY/ and the batch files. With
--dry-run it prints the plan instead (variations, runs, a cost range, a time estimate and the
budget verdict) and writes nothing.

USAGE:
    scenario-lab run <batch-config> [options]

RUN CONTROL:
    --dry-run              plan only: print the plan, run nothing (off). Once runs exist (a
                           pilot, a stopped batch) it also estimates the rest of the batch
                           from the tokens the recorded calls used, and says from how many
    --pilot N              run only runs 1..N of every variation, then print the estimate of
                           the rest; on a terminal, ask whether to run it; elsewhere stop
                           (exit 0) and print the command that runs it
    --resume               continue the batch in its output_dir: completed runs are skipped,
                           interrupted ones continue with no call paid twice, failed ones are
                           retried once more (off)
    --shard K/N            run only the runs whose index modulo N is K (split a batch across
                           machines; combine the outputs with 'scenario-lab merge')
    --call-timeout S       seconds one LLM request may take before it is retried, over the
                           config's call_timeout (default: from the call's output cap)

MONEY:
    --budget-limit USD     overrides budget_limit for this session (for example to go on after
                           the budget stopped a batch)
    --base-url URL         any OpenAI-compatible server for every model that is not builtin/,
                           ollama/ or local/ (SCENARIO_LAB_BASE_URL; else ${DEFAULT_BASE_URL})

OUTPUT:
    --json                 one JSON object per line on stdout: the events (batch_started,
                           run_started, run_finished, note, analysis, summary; the set may
                           grow); with
                           --dry-run, the plan as one JSON document (off)
    --no-progress          one plain line per run start and end, even on a terminal (off)
    -h, --help             show this help

Ctrl+C once: no new run starts, calls in flight finish, everything is saved, and the command
to resume is printed. Twice: exit at once (the files on disk stay consistent).

${MODEL_CHECK_HELP}
    For run (and --dry-run) an unknown id is an error: nothing is written or sent.

ENVIRONMENT:
    OPENROUTER_API_KEY     the key sent to OpenRouter (and only there); also fetches current
                           prices and checks model ids (GET <base-url>/models, 10 s timeout)
    SCENARIO_LAB_BASE_URL  the default for --base-url
    SCENARIO_LAB_API_KEY   the key sent to --base-url, when that server needs one
    OLLAMA_BASE_URL        the root of the local server for ollama/ and local/ models
    NO_COLOR               disable colour

EXIT STATUS:
    0   the batch completed (or the plan was printed, or a pilot ended as asked)
    1   the batch ended with failed runs, or stopped at its budget or on request: --resume
    2   bad usage, an invalid config, or a batch that will not start (a model with no price
        under a budget, a model id the provider does not list, a config changed since the
        batch started)

EXAMPLES:
    scenario-lab run experiments/quick-start/batch-config.yaml
    scenario-lab run experiments/quick-start/batch-config.yaml --dry-run
    scenario-lab run experiments/model-comparison/batch-config.yaml --pilot 2
    scenario-lab run experiments/model-comparison/batch-config.yaml --resume --budget-limit 40
    scenario-lab run experiments/robustness/batch-config.yaml --shard 0/2
`,
};

// ---------------------------------------------------------------------------------------------
// Options per command. `help` and `version` are accepted everywhere.

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
};
const COMMANDS = {
  validate: { ...COMMON, json: { type: 'boolean' }, 'base-url': { type: 'string' } },
  run: {
    ...COMMON,
    json: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    'base-url': { type: 'string' },
    resume: { type: 'boolean' },
    'budget-limit': { type: 'string' },
    shard: { type: 'string' },
    pilot: { type: 'string' },
    'call-timeout': { type: 'string' },
    'no-progress': { type: 'boolean' },
  },
  scenario: {
    ...COMMON,
    json: { type: 'boolean' },
    output: { type: 'string' },
    turns: { type: 'string' },
    'model-override': { type: 'string', multiple: true },
    seed: { type: 'string' },
    'max-tokens': { type: 'string' },
    'cost-limit': { type: 'string' },
    'call-timeout': { type: 'string' },
    resume: { type: 'string' },
    'branch-from': { type: 'string' },
    'at-turn': { type: 'string' },
    'base-url': { type: 'string' },
  },
  merge: { ...COMMON, output: { type: 'string' } },
  analyze: { ...COMMON, report: { type: 'boolean' }, json: { type: 'boolean' }, success: { type: 'string' }, 'half-width': { type: 'string' } },
  serve: { ...COMMON, port: { type: 'string' } },
  help: { ...COMMON },
};

/**
 * A usage error: printed as one line plus a pointer to --help, exit 2. `guess`, when set, asks
 * the core for a "did you mean" ({ word, candidates, message(suggestion) }) before printing.
 */
class UsageError extends Error {
  constructor(message, command, guess) {
    super(message);
    this.command = command;
    this.guess = guess;
  }
}

// ---------------------------------------------------------------------------------------------
// Colour, decided once: only on a terminal, never with NO_COLOR (any non-empty value, as
// no-color.org says) or TERM=dumb, never with --json.

function colorFor(stream, json) {
  if (json) return false;
  if (!stream.isTTY) return false;
  if (process.env.NO_COLOR) return false;
  if (process.env.TERM === 'dumb') return false;
  return true;
}

function paint(format, text, stream, enabled) {
  return enabled ? styleText(format, text, { stream }) : text;
}

const out = (text = '') => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const err = (text = '') => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

// ---------------------------------------------------------------------------------------------
// Argument parsing.

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

function parse(argv) {
  // First pass: find the command (the first positional) without knowing its options.
  const first = argv.findIndex((a) => !a.startsWith('-'));
  const command = first === -1 ? null : argv[first];
  if (command !== null && !(command in COMMANDS)) {
    const names = Object.keys(COMMANDS);
    const message = (guess) =>
      `unknown command '${command}'` + (guess ? `; did you mean '${guess}'?` : '') + ` (commands: ${names.join(', ')})`;
    throw new UsageError(message(null), undefined, { word: command, candidates: names, message });
  }
  const options = command ? COMMANDS[command] : COMMON;
  const args = command ? [...argv.slice(0, first), ...argv.slice(first + 1)] : argv;

  // strict: false so that we, not parseArgs, word the message for an unknown flag.
  const { values, positionals, tokens } = parseArgs({
    args,
    options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const longNames = Object.keys(options);
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    if (!(t.name in options)) {
      const message = (guess) => `unknown option '${t.rawName}'` + (guess ? `; did you mean '--${guess}'?` : '');
      throw new UsageError(message(null), command, { word: t.name, candidates: longNames, message });
    }
    const type = options[t.name].type;
    if (type === 'string' && (t.value === undefined || t.value === '')) {
      throw new UsageError(`option '${t.rawName}' needs a value`, command);
    }
    if (type === 'boolean' && t.value !== undefined) {
      throw new UsageError(`option '${t.rawName}' takes no value`, command);
    }
  }
  return { command, values, positionals };
}

// ---------------------------------------------------------------------------------------------
// Commands.

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
    if (topic !== undefined && !(topic in HELP && topic !== 'main')) {
      usageError(new UsageError(`no help for '${topic}' (commands: validate, scenario, run, analyze, merge, serve)`));
      return;
    }
    if (command === null && !values.help) {
      // No command at all: the help, but as a usage error.
      err(HELP.main);
      process.exitCode = EXIT.usage;
      return;
    }
    out(HELP[topic ?? 'main']);
    return;
  }
  if (values.help) {
    out(HELP[command]);
    return;
  }

  if (command === 'serve') {
    await cmdServe(values, positionals);
    return;
  }

  // The wasm is loaded only once there is work for it, so --help and usage errors stay instant
  // and work even when the wasm is not built.
  const api = () => loadApi();
  try {
    if (command === 'validate') await cmdValidate(api, values, positionals);
    else if (command === 'scenario') await cmdScenario(api, values, positionals);
    else if (command === 'run') await cmdRun(api, values, positionals);
    else if (command === 'merge') await cmdMerge(api, values, positionals);
    else if (command === 'analyze') await cmdAnalyze(api, values, positionals);
  } catch (e) {
    if (e instanceof UsageError) usageError(e);
    else reportError(e);
  }
}

async function loadApi() {
  // The CLI runs the wasm core on V8's baseline compiler only (Liftoff): its optimising tier
  // compiles the hot parts of a 1 MB module again, which cost 25 MB of peak memory and some CPU
  // for no measurable gain in a batch (network-bound) and 10% in a 100,000-run analysis
  // (bench/README.md). A library user's process keeps its own flags: this is the CLI's only.
  setFlagsFromString('--liftoff-only');
  try {
    return await import('./wasm.js');
  } catch (e) {
    if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'ENOENT') {
      const where = new URL('../pkg/', import.meta.url).pathname;
      const error = new Error(`the wasm core is not built (${where} is missing or incomplete); run 'npm run build'`);
      error.kind = 'storage';
      throw error;
    }
    throw e;
  }
}

async function cmdValidate(api, values, positionals) {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? 'validate needs a scenario folder or a batch config'
        : `validate takes one path, got ${positionals.length}`,
      'validate',
    );
  }
  const [path] = positionals;
  const json = Boolean(values.json);
  const core = await api();
  const report = await core.validate(path, nodeStorage());

  printDiagnostics([...report.errors, ...report.warnings]);
  // With a key, the model ids are checked too: an unknown one is a warning here.
  let check = null;
  if (report.ok) {
    const source = modelSource(values);
    const list = source.key ? await fetchModels(source.base, source.key, 'ids') : null;
    if (list !== null) check = await core.checkModels(path, nodeStorage(), list);
    if (check) reportUnknownModels(check, source.base, 'warning');
  }
  const unknown = check?.unknown.length ?? 0;
  if (json) {
    out(JSON.stringify(check ? { ...report, model_check: check } : report, null, 2));
  } else {
    const color = colorFor(process.stdout, json);
    const what = report.kind === 'batch' ? 'batch config' : report.kind === 'scenario' ? 'scenario' : 'input';
    const counts = `${plural(report.errors.length, 'error')}, ${plural(report.warnings.length + unknown, 'warning')}`;
    out(
      report.ok
        ? `${paint('green', 'valid', process.stdout, color)} ${what}: ${path} (${counts})`
        : `${paint('red', 'invalid', process.stdout, color)} ${what}: ${path} (${counts})`,
    );
  }
  process.exitCode = report.ok ? EXIT.ok : EXIT.invalid;
}

async function cmdRun(api, values, positionals) {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0 ? 'run needs a batch config' : `run takes one batch config, got ${positionals.length}`,
      'run',
    );
  }
  if (values['dry-run'] && values.pilot !== undefined) {
    throw new UsageError('--pilot runs a pilot and --dry-run runs nothing: give one of them (a dry run after a pilot estimates the rest)', 'run');
  }
  if (!values['dry-run']) {
    await cmdRunBatch(api, values, positionals[0]);
    return;
  }
  const [path] = positionals;
  const json = Boolean(values.json);
  const source = modelSource(values);
  const options = {};
  const list = source.key ? await fetchModels(source.base, source.key, 'prices') : null;
  if (list !== null) options.openrouterModels = list;

  // A dry run gets a storage that refuses writes: "writes nothing" is enforced, not hoped for.
  const storage = readOnlyStorage(nodeStorage());
  const { planBatch, calibrateBatch, renderCalibration, checkModels } = await api();
  const plan = await planBatch(path, storage, options);
  // Once runs exist, the rest of the batch is estimated from what their calls used.
  const calibration = await calibrateBatch(path, storage, options);
  if (calibration.runs_recorded > 0) calibration.command = continueCommand(path, values);
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

/** A number of seconds above 0, or a usage error naming the flag. */
function seconds(values, name, command) {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number of seconds above 0, not '${raw}'`, command);
  return n;
}

/** A whole number flag, or a usage error naming it. */
function count(values, name, min, command = 'scenario') {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number of at least ${min}, not '${raw}'`, command);
  return n;
}

/** Where requests go and which key goes with them. A key is sent only to its own server. */
function connection(values) {
  const base = (values['base-url'] ?? process.env.SCENARIO_LAB_BASE_URL ?? '').replace(/\/+$/, '');
  const apiKey = !base || base === DEFAULT_BASE_URL ? process.env.OPENROUTER_API_KEY : process.env.SCENARIO_LAB_API_KEY;
  return {
    baseUrl: base || undefined,
    apiKey: apiKey || undefined,
    ollamaBaseUrl: process.env.OLLAMA_BASE_URL || undefined,
    freshSeed: randomInt(0, 2 ** 47),
  };
}

async function cmdScenario(api, values, positionals) {
  const resuming = values.resume !== undefined || values['branch-from'] !== undefined;
  if (positionals.length !== (resuming ? 0 : 1)) {
    throw new UsageError(resuming ? 'with --resume or --branch-from, give no scenario folder' : 'scenario needs a scenario folder', 'scenario');
  }
  if (values['branch-from'] !== undefined && values['at-turn'] === undefined) throw new UsageError('--branch-from needs --at-turn K', 'scenario');
  const costLimit = values['cost-limit'] === undefined ? undefined : Number(values['cost-limit']);
  if (costLimit !== undefined && !(costLimit > 0)) throw new UsageError(`--cost-limit must be a number of USD above 0, not '${values['cost-limit']}'`, 'scenario');
  const request = {
    scenarioDir: positionals[0],
    output: values.output,
    turns: count(values, 'turns', 1),
    modelOverrides: values['model-override'] ?? [],
    seed: count(values, 'seed', 0),
    maxTokens: count(values, 'max-tokens', 1),
    costLimit,
    callTimeout: seconds(values, 'call-timeout', 'scenario'),
    resume: values.resume,
    branchFrom: values['branch-from'],
    atTurn: count(values, 'at-turn', 1),
  };
  const { runScenario } = await api();
  const outcome = await runScenario(request, nodeStorage(), connection(values));
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

async function cmdRunBatch(api, values, path) {
  const json = Boolean(values.json);
  let shard;
  if (values.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(values.shard);
    if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard must be K/N with 0 <= K < N, not '${values.shard}'`, 'run');
    shard = [Number(m[1]), Number(m[2])];
  }
  const budgetLimit = values['budget-limit'] === undefined ? undefined : Number(values['budget-limit']);
  if (budgetLimit !== undefined && !(budgetLimit > 0)) throw new UsageError(`--budget-limit must be a number of USD above 0, not '${values['budget-limit']}'`, 'run');
  const pilot = count(values, 'pilot', 1, 'run');
  const conn = connection(values);
  const options = { resume: Boolean(values.resume), budgetLimit, shard, pilot, callTimeout: seconds(values, 'call-timeout', 'run') };
  const source = modelSource(values);
  const list = source.key ? await fetchModels(source.base, source.key, 'prices') : null;
  if (list !== null) {
    options.openrouterModels = list;
    // Every model id the batch calls must be one the provider lists, before anything is written.
    const check = await (await api()).checkModels(path, nodeStorage(), list);
    if (check && check.unknown.length) {
      reportUnknownModels(check, source.base, 'error');
      err('scenario-lab: the batch was not started: nothing was written and no request was sent');
      process.exitCode = EXIT.invalid;
      return;
    }
  }
  const outcome = await batchSession(api, path, conn, options, { json, values, budgetLimit });
  if (!outcome) return;
  if (pilot === undefined || !endedClean(outcome) || outcome.runs_pending === 0) {
    process.exitCode = exitFor(outcome, shard);
    return;
  }

  // The pilot is done: estimate the rest from what its calls used, then ask (on a terminal).
  const { calibrateBatch, renderCalibration } = await api();
  const calibration = await calibrateBatch(path, nodeStorage(), { openrouterModels: options.openrouterModels, budgetLimit });
  calibration.command = continueCommand(path, values);
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

/** 0 when the batch (or the shard's share of it) completed, else 1: it resumes with --resume. */
function exitFor(outcome, shard) {
  // A shard's pending runs belong to other machines: it is done when nothing of its own is left.
  return endedClean(outcome) && (shard || outcome.runs_completed === outcome.total_runs) ? EXIT.ok : EXIT.failure;
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
  try {
    const { runBatch } = await api();
    outcome = await runBatch(path, nodeStorage(), conn, {
      ...options,
      shouldStop: () => stops > 0,
      onEvent: (e) => {
        if (json) out(JSON.stringify(e));
        else progress.event(e);
      },
    });
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
  }
  if (!json) {
    let text = summary(outcome, { configPath: path, started, budget: budgetLimit ?? null, analysis: progress.analysis });
    if (options.pilot !== undefined && !outcome.stop_reason) {
      // The runs a pilot leaves are not a failure to report: the estimate of the rest follows.
      text = text.split('\n').filter((l) => !l.startsWith('Some runs did not complete')).join('\n');
      text += `\nPilot: ${plural(options.pilot, 'run')} of each variation.`;
    }
    err(text);
  }
  return outcome;
}

/** The command that continues this batch, with the flags that matter for it. */
function continueCommand(path, values) {
  const parts = ['npx scenario-lab run', path, '--resume'];
  if (values['budget-limit'] !== undefined) parts.push('--budget-limit', values['budget-limit']);
  if (values['base-url'] !== undefined) parts.push('--base-url', values['base-url']);
  if (values.shard !== undefined) parts.push('--shard', values.shard);
  return parts.join(' ');
}

/** Asks a yes/no question on the terminal; only "y" or "yes" is a yes. */
async function confirm(question) {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^\s*y(es)?\s*$/i.test(await rl.question(question));
  } finally {
    rl.close();
  }
}

async function cmdAnalyze(api, values, positionals) {
  if (positionals.length !== 1) throw new UsageError('analyze needs one batch output folder', 'analyze');
  const halfWidth = values['half-width'] === undefined ? undefined : Number(values['half-width']);
  if (halfWidth !== undefined && !(halfWidth > 0)) throw new UsageError(`--half-width must be a number above 0, not '${values['half-width']}'`, 'analyze');
  const { analyzeBatch } = await api();
  const dir = positionals[0].replace(/\/+$/, '') || '.';
  const a = await analyzeBatch(dir, confinedStorage(dir), { success: values.success, halfWidth });
  if (values.json) out(JSON.stringify(a, null, 2));
  else if (values.report) out(a.report_markdown);
  const p = a.patterns;
  const problems = a.problems.length + a.problems_not_listed;
  err(`Analysed ${plural(p.total_runs, 'run')} in ${plural(a.variations.length, 'variation')} (${p.completed_runs} completed, ${p.successful_runs} successful)` +
    `${problems ? `; ${plural(problems, 'data problem')}, listed in the report` : ''}`);
  err(`Wrote ${dir}/analysis/: ${a.files.map((f) => f.split('/').pop()).join(', ')}`);
  process.exitCode = EXIT.ok;
}

async function cmdMerge(api, values, positionals) {
  if (positionals.length < 1 || !values.output) throw new UsageError('merge needs the shard output folders and --output <dir>', 'merge');
  const { mergeBatches } = await api();
  const o = await mergeBatches(positionals, values.output, nodeStorage());
  out(`merged ${positionals.length} folder(s) into ${values.output}: ${o.runs_completed} of ${o.total_runs} runs completed, ${o.runs_failed} failed, ${o.runs_halted} halted, $${o.total_spent.toFixed(4)} spent`);
  process.exitCode = EXIT.ok;
}

async function cmdServe(values, positionals) {
  if (positionals.length) {
    usageError(new UsageError(`serve takes no arguments, got '${positionals[0]}'`, 'serve'));
    return;
  }
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) {
    usageError(new UsageError(`--port must be a port number (0-65535), not '${values.port}'`, 'serve'));
    return;
  }
  const { startStaticServer, PACKAGE_ROOT } = await import('./serve.js');
  const { existsSync } = await import('node:fs');
  if (!existsSync(new URL('../pkg/scenario_lab_bg.wasm', import.meta.url))) {
    warn(`warning: the wasm core is not built (${PACKAGE_ROOT}/pkg/ is missing); run 'npm run build'`);
  }
  let server;
  try {
    server = await startStaticServer({ port });
  } catch (e) {
    err(`scenario-lab: error: cannot listen on 127.0.0.1:${port}: ${e.code ?? e.message}${e.code === 'EADDRINUSE' ? ' (choose another with --port)' : ''}`);
    process.exitCode = EXIT.usage;
    return;
  }
  out(`Scenario Lab web page: ${server.url}/www/`);
  err('scenario-lab: serving on 127.0.0.1 only; Ctrl+C stops');
  await new Promise((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.close().then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.exitCode = EXIT.ok;
}

/**
 * Where the provider's model list is, and the key that reads it: the server of --base-url (else
 * SCENARIO_LAB_BASE_URL, else OpenRouter); OPENROUTER_API_KEY for OpenRouter, SCENARIO_LAB_API_KEY
 * for another server (where OPENROUTER_API_KEY is still used to read prices, as it always was).
 */
function modelSource(values) {
  const base = (values['base-url'] || process.env.SCENARIO_LAB_BASE_URL || DEFAULT_BASE_URL).replace(/\/+$/, '');
  const key = base === DEFAULT_BASE_URL
    ? process.env.OPENROUTER_API_KEY
    : process.env.SCENARIO_LAB_API_KEY || process.env.OPENROUTER_API_KEY;
  return { base, key: key || undefined };
}

/**
 * GET {base}/models, or null after one warning line. The key is never printed. `purpose` words
 * the warning: 'prices' (a run: prices, then model ids) or 'ids' (validate: model ids only).
 */
async function fetchModels(base, key, purpose = 'prices') {
  const url = `${base}/models`;
  const redact = (s) => String(s).split(key).join('<key>');
  try {
    const res = await fetch(url, {
      headers: { Authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(MODELS_TIMEOUT_MS),
    });
    const body = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
    // A proxy's HTML error page or a truncated body is a failed fetch, not a reason to stop the
    // plan (the core would reject it as unreadable).
    let doc;
    try {
      doc = JSON.parse(body);
    } catch {
      throw new Error('the answer is not JSON');
    }
    if (!Array.isArray(doc?.data)) throw new Error('the answer has no `data` list');
    return body;
  } catch (e) {
    const why = e.name === 'TimeoutError' ? `no answer in ${MODELS_TIMEOUT_MS / 1000} s` : (e.cause?.message ?? e.message);
    warn(redact(purpose === 'ids'
      ? `warning: could not fetch the model list from ${url} (${why}); model ids were not checked`
      : `warning: could not fetch model prices from ${url} (${why}); using the built-in price table, and model ids were not checked`));
    return null;
  }
}

/** One line per model id the provider does not list (the core's words), then where it looked. */
function reportUnknownModels(check, base, severity) {
  if (!check.unknown.length) return;
  const color = colorFor(process.stderr, false);
  const label = severity === 'error' ? paint('red', 'error:', process.stderr, color) : paint('yellow', 'warning:', process.stderr, color);
  for (const u of check.unknown) err(`scenario-lab: ${label} ${u.message}`);
  err(`scenario-lab: (checked against the ${plural(check.listed, 'model')} listed by ${base}/models; fix the id in the batch config or its scenario)`);
}

// ---------------------------------------------------------------------------------------------
// Reporting.

function printDiagnostics(diagnostics) {
  for (const d of diagnostics) err(d.text);
}

function warn(line) {
  err(`scenario-lab: ${paint('yellow', line, process.stderr, colorFor(process.stderr, false))}`);
}

function usageError(e) {
  const color = colorFor(process.stderr, false);
  err(`scenario-lab: ${paint('red', 'error:', process.stderr, color)} ${e.message}`);
  err(`Run 'scenario-lab ${e.command ? `${e.command} ` : ''}--help' for usage.`);
  process.exitCode = EXIT.usage;
}

/** Errors thrown by the core carry a stable `kind`; anything else is a bug and shows its stack. */
function reportError(e) {
  const color = colorFor(process.stderr, false);
  const label = paint('red', 'error:', process.stderr, color);
  switch (e?.kind) {
    case 'config_invalid': {
      const diags = Array.isArray(e.diagnostics) ? e.diagnostics : [];
      printDiagnostics(diags);
      const n = diags.filter((d) => d.severity === 'error').length;
      err(`scenario-lab: ${label} ${diags.length ? `invalid config (${plural(n, 'error')})` : e.message}`);
      process.exitCode = EXIT.invalid;
      return;
    }
    case 'usage':
    case 'refused':
      err(`scenario-lab: ${label} ${e.message}`);
      process.exitCode = EXIT.usage;
      return;
    case 'storage':
      err(`scenario-lab: ${label} ${e.message}`);
      process.exitCode = EXIT.failure;
      return;
    case 'internal':
      err(`scenario-lab: ${label} internal error (a bug in scenario-lab; please report it): ${e.message}`);
      process.exitCode = EXIT.failure;
      return;
    default:
      err(`scenario-lab: ${label} unexpected error (a bug in scenario-lab; please report it):`);
      err(e?.stack ?? String(e));
      process.exitCode = EXIT.failure;
  }
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// A closed pipe (`scenario-lab run ... | head`) ends the output quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exitCode ??= EXIT.ok;
    else throw e;
  });
}

await main(process.argv.slice(2));
