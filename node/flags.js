// node/flags.js owns the command line's vocabulary: the commands, every flag, every environment
// variable, and the parsing of argv against them. One table of each drives everything: the
// parser (which flags a command takes, whether a flag takes a value), the "did you mean" for an
// unknown command or flag, and the OPTIONS, ENVIRONMENT and COMMANDS sections of the help text
// (node/help.js renders them), as ripgrep's flag definitions do.
//
// A flag that means different things to different commands (`--resume` continues a batch for
// `run` and a run folder for `scenario`) has one row per meaning, each naming its commands; a
// command never has two rows of the same name. Help is one sentence or a few, without the
// flag's name (the renderer adds it) and without the default (`default` says it, and the
// renderer shows it in parentheses).

import { parseArgs } from 'node:util';
import { OPENROUTER_BASE } from '../lib/models.js';

/** The commands, in the order the main help lists them. */
export const COMMANDS = [
  { name: 'init', args: '[dir]', summary: 'a new scenario and batch config: an interview, a template, or an example' },
  { name: 'validate', args: '<scenario-dir | batch-config>', summary: 'check a scenario folder or a batch config' },
  { name: 'scenario', args: '<scenario-dir>', summary: 'run one scenario, end to end' },
  { name: 'run', args: '<batch-config>', summary: 'run a batch (--dry-run: plan it: runs, cost, time)' },
  { name: 'analyze', args: '<output-dir>', summary: "statistics, comparisons and reports of a batch's results" },
  { name: 'merge', args: '<dirs...> --output <dir>', summary: 'combine the outputs of batch shards' },
  { name: 'serve', args: '[--port N]', summary: 'serve the web page on http://127.0.0.1:N/www/' },
  { name: 'help', args: '[command]', summary: "show this help, or a command's help" },
];

/** The command names; `main` (no command) is the help's name for the tool itself. */
export const COMMAND_NAMES = COMMANDS.map((c) => c.name);
const ALL = ['main', ...COMMAND_NAMES];

/** Help groups, in the order a command's help shows them. */
export const CATEGORIES = [
  ['init', 'INIT'],
  ['run', 'RUN'],
  ['money', 'MONEY'],
  ['connection', 'CONNECTION'],
  ['analysis', 'ANALYSIS'],
  ['server', 'SERVER'],
  ['output', 'OUTPUT'],
  ['general', 'OPTIONS'],
];

/**
 * Every flag. `arg` names its value (a flag without one is a switch); `multiple` lets it repeat;
 * `commands` lists who takes it; `category` is its help group; `default` is shown in
 * parentheses after its help.
 */
export const FLAGS = [
  // INIT
  {
    name: 'template', arg: 'NAME', commands: ['init'], category: 'init',
    help: 'start from a template, without questions: bilateral-negotiation, multi-party-coalition or crisis-response',
  },
  {
    name: 'answers', arg: 'FILE', commands: ['init'], category: 'init',
    help: 'take the answers from a JSON file, without questions (the keys are in the help above)',
  },
  {
    name: 'example', arg: 'NAME', commands: ['init'], category: 'init',
    help: "copy one of the package's example experiments and its scenario, ready to run (quick-start runs offline on the built-in model)",
  },
  { name: 'title', arg: 'TEXT', commands: ['init'], category: 'init', help: "the scenario's name (the folders are named after it)" },
  { name: 'model', arg: 'ID', commands: ['init'], category: 'init', help: 'the model of every actor and of the world' },
  { name: 'turns', arg: 'N', commands: ['init'], category: 'init', help: 'how many turns a run plays' },
  { name: 'runs', arg: 'N', commands: ['init'], category: 'init', help: 'how many runs the batch makes' },
  { name: 'budget-limit', arg: 'USD', commands: ['init'], category: 'init', help: "the batch's budget_limit" },
  {
    name: 'force', commands: ['init'], category: 'init', default: 'off',
    help: 'write into a folder that is not empty (files of the same name are overwritten). Roots, system folders and the home folder itself are refused even so',
  },

  // RUN
  {
    name: 'dry-run', commands: ['run'], category: 'run', default: 'off',
    help: 'plan only: print the plan, run nothing. Once runs exist (a pilot, a stopped batch) it also estimates the rest of the batch from the tokens the recorded calls used, and says from how many',
  },
  {
    name: 'pilot', arg: 'N', commands: ['run'], category: 'run',
    help: 'run only runs 1..N of every variation, then print the estimate of the rest; on a terminal, ask whether to run it; elsewhere stop (exit 0) and print the command that runs it',
  },
  {
    name: 'resume', commands: ['run'], category: 'run', default: 'off',
    help: 'continue the batch in its output_dir: completed runs are skipped, interrupted ones continue with no call paid twice, failed ones are retried once more',
  },
  {
    name: 'shard', arg: 'K/N|auto', commands: ['run'], category: 'run',
    help: "run shard K of N (1 to N), with budget_limit x its share of the runs: the runs whose number modulo N is K (N/N: 0). 'auto' reads the shard from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with --shards N or SCENARIO_LAB_SHARD_COUNT) or a Slurm job array (SLURM_ARRAY_TASK_ID, _MIN, _COUNT). A new shard needs --seed N, the same for all; combine the outputs with 'scenario-lab merge'",
  },
  { name: 'shards', arg: 'N', commands: ['run'], category: 'run', help: "with --shard auto in a Kubernetes Indexed Job: the number of shards (the Job's completions)" },
  { name: 'turns', arg: 'N', commands: ['scenario'], category: 'run', help: "run N turns instead of the scenario's" },
  {
    name: 'model-override', arg: 'A=M', multiple: true, commands: ['scenario'], category: 'run',
    help: "actor A (its short_name) is played by model M; 'world=M' sets the world model, which metrics and checks use unless they name their own. Repeat for several actors.",
  },
  {
    name: 'human', arg: 'ACTOR', multiple: true, commands: ['scenario'], category: 'run',
    help: "you play ACTOR (its short_name or name) in a new run, as `human: true` in its file would: at each of its calls you see what its model would, and type the reply on the terminal. Repeat for several actors.",
  },
  {
    name: 'editor', commands: ['scenario', 'run'], category: 'run', default: 'off',
    help: "write every reply of a seat you play in $EDITOR (or $VISUAL) instead of typing it (without it, ':e' as a reply's first line opens the editor for that reply)",
  },
  { name: 'seed', arg: 'N', commands: ['scenario', 'run'], category: 'run', default: 'random', help: "the run's (or a new batch's) seed; recorded, so it can be reproduced" },
  {
    name: 'max-tokens', arg: 'N', commands: ['scenario'], category: 'run',
    default: "by role, actor 800, world 1000, communication 300, metric 40, check 400, summary 600; a scenario's max_tokens: map sets its own",
    help: 'output cap for every call whose actor sets none',
  },
  {
    name: 'execution', arg: 'MODE', commands: ['run'], category: 'run', default: "the config's execution:, else realtime",
    help: "realtime (one request a call) or batch (the runs advance in lock-step; each phase's calls go to the provider as one batch job, at about half the price, answered within hours)",
  },
  {
    name: 'call-timeout', arg: 'S', commands: ['run'], category: 'run', default: "from the call's output cap",
    help: "seconds one LLM request may take before it is retried, over the config's call_timeout",
  },
  {
    name: 'call-timeout', arg: 'S', commands: ['scenario'], category: 'run',
    default: '60 + its cap at 20 tokens/s, or 5 tokens/s for ollama/ and local/',
    help: 'seconds one LLM request may take before it is retried',
  },
  { name: 'resume', arg: 'DIR', commands: ['scenario'], category: 'run', help: 'continue the run in DIR' },
  {
    name: 'branch-from', arg: 'DIR', commands: ['scenario'], category: 'run',
    help: "a new run that starts from DIR's state after turn K (--at-turn), reusing DIR's calls up to K, then diverges (a new seed)",
  },
  { name: 'at-turn', arg: 'K', commands: ['scenario'], category: 'run', help: 'the turn of --branch-from DIR to start from' },
  {
    name: 'yes', commands: ['run'], category: 'run', default: 'off',
    help: 'start a batch whose size needs confirming without asking: more than 100,000 runs, a run of more than 1,000 turns, an expected cost over 3 times budget_limit, or a run expected to take over 3 times timeout_per_run (on a terminal the run asks; elsewhere it is refused without --yes; --dry-run shows the figures)',
  },
  {
    name: 'yes', commands: ['scenario'], category: 'run', default: 'off',
    help: 'start a run of more than 1,000 turns without asking (on a terminal the run asks; elsewhere it is refused without --yes)',
  },

  // MONEY
  {
    name: 'budget-limit', arg: 'USD', commands: ['run'], category: 'money',
    help: 'overrides budget_limit for this session (for example to go on after the budget stopped a batch)',
  },
  {
    name: 'cost-limit', arg: 'USD', commands: ['scenario'], category: 'money',
    help: 'stop the run (halted, cost_limit) before a call could pass this spend',
  },

  // CONNECTION
  {
    name: 'base-url', arg: 'URL', commands: ['run', 'scenario'], category: 'connection',
    default: `SCENARIO_LAB_BASE_URL; else ${OPENROUTER_BASE}`,
    help: 'any OpenAI-compatible server for every model that is not builtin/, ollama/ or local/',
  },
  {
    name: 'base-url', arg: 'URL', commands: ['validate'], category: 'connection',
    default: `SCENARIO_LAB_BASE_URL; else ${OPENROUTER_BASE}`,
    help: 'the server whose model list is checked',
  },

  // ANALYSIS
  {
    name: 'success', arg: 'EXPR', commands: ['analyze'], category: 'analysis',
    default: "the config's success:, else every completed run",
    help: 'what counts as a success, e.g. "cooperation_level >= 6 and tension < 4"',
  },
  {
    name: 'half-width', arg: 'X', commands: ['analyze'], category: 'analysis',
    default: "5% of each metric's observed range",
    help: 'size the "how many runs" advice for 95% CIs of +/- X',
  },

  // SERVER
  { name: 'port', arg: 'N', commands: ['serve'], category: 'server', default: '8080', help: 'the port; 0 picks a free one' },

  // OUTPUT
  { name: 'output', arg: 'DIR', commands: ['scenario'], category: 'output', default: 'output/<scenario>/run-NNN, the next free number', help: 'the run folder' },
  { name: 'output', arg: 'DIR', commands: ['merge'], category: 'output', help: 'the merged output folder (required)' },
  {
    name: 'output', arg: 'DIR', commands: ['run'], category: 'output', default: "the config's output_dir",
    help: 'the batch\'s output folder: one folder per shard on a shared volume (give it again with --resume)',
  },
  {
    name: 'force', commands: ['run'], category: 'output', default: 'off',
    help: "write into an output_dir that is not empty and not a Scenario Lab output folder (no batch-state.json). Roots, system folders and the home folder itself are refused even so",
  },
  {
    name: 'force', commands: ['scenario'], category: 'output', default: 'off',
    help: 'write into an --output folder that is not empty and not a run folder (no scenario-state.json). Roots, system folders and the home folder itself are refused even so',
  },
  { name: 'report', commands: ['analyze'], category: 'output', default: 'off', help: 'print the Markdown report on stdout' },
  {
    name: 'json', commands: ['validate'], category: 'output', default: 'off',
    help: 'print the validation report as one JSON document on stdout, with model_check when model ids were checked (diagnostics are still printed on stderr)',
  },
  {
    name: 'json', commands: ['run'], category: 'output', default: 'off',
    help: 'one JSON object per line on stdout: the events (batch_started, run_started, run_finished, note, analysis, summary; the set may grow); with --dry-run, the plan as one JSON document',
  },
  { name: 'json', commands: ['scenario'], category: 'output', default: 'off', help: 'print the outcome as one JSON document on stdout' },
  { name: 'json', commands: ['analyze'], category: 'output', default: 'off', help: 'print the whole analysis as one JSON document on stdout' },
  { name: 'no-progress', commands: ['run'], category: 'output', default: 'off', help: 'one plain line per run start and end, even on a terminal' },

  // OPTIONS: accepted everywhere.
  { name: 'help', short: 'h', commands: ['main'], category: 'general', help: 'show help (also after a command: scenario-lab run --help)' },
  { name: 'help', short: 'h', commands: COMMAND_NAMES, category: 'general', help: 'show this help' },
  { name: 'version', commands: ALL, category: 'general', help: 'print the version' },
];

/**
 * Every environment variable the CLI reads, with what it means to each command (the
 * ENVIRONMENT sections of the help).
 */
export const ENVIRONMENT = [
  { name: 'OPENROUTER_API_KEY', commands: ['main'], help: 'the OpenRouter key for runs, and for current model prices' },
  { name: 'OPENROUTER_API_KEY', commands: ['scenario'], help: 'the key sent to OpenRouter (and only there)' },
  {
    name: 'OPENROUTER_API_KEY', commands: ['run'],
    help: 'the key sent to OpenRouter (and only there); also fetches current prices and checks model ids (GET <base-url>/models, 10 s timeout)',
  },
  { name: 'OPENROUTER_API_KEY', commands: ['validate'], help: 'the OpenRouter key: model ids are checked against its list' },
  { name: 'SCENARIO_LAB_BASE_URL', commands: ['validate', 'run', 'scenario'], help: 'the default for --base-url' },
  { name: 'SCENARIO_LAB_API_KEY', commands: ['run', 'scenario'], help: 'the key sent to --base-url, when that server needs one' },
  { name: 'SCENARIO_LAB_API_KEY', commands: ['validate'], help: "the key of --base-url's server: model ids are checked against its list" },
  { name: 'SCENARIO_LAB_SHARD_COUNT', commands: ['run'], help: "--shard auto in a Kubernetes Indexed Job: the number of shards (set it in the manifest to the Job's completions)" },
  {
    name: 'OLLAMA_BASE_URL', commands: ['run', 'scenario'],
    help: 'the root of the local server for ollama/ and local/ models (http://localhost:11434)',
  },
  {
    name: 'SCENARIO_LAB_MAX_YAML_MB', commands: ['main', 'validate', 'run', 'scenario'],
    help: 'the largest YAML file read, in megabytes (10); see "Limits" in docs/batch-guide.md',
  },
  { name: 'NO_COLOR', commands: ['main', 'validate', 'run', 'scenario'], help: 'disable colour (colour is on only when writing to a terminal)' },
];

/** The rows of `table` that apply to `command` (`main` for the tool itself), in table order. */
export function rowsFor(table, command) {
  return table.filter((row) => row.commands.includes(command));
}

/** The `util.parseArgs` options of a command (`main`: no command yet). */
export function parseOptions(command) {
  const options = {};
  for (const f of rowsFor(FLAGS, command)) {
    options[f.name] = { type: f.arg ? 'string' : 'boolean', ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) };
  }
  return options;
}

/**
 * A usage error: printed as one line plus a pointer to --help, exit 2. `guess`, when set, asks
 * the core for a "did you mean" ({ word, candidates, message(suggestion) }) before printing.
 */
export class UsageError extends Error {
  constructor(message, command, guess) {
    super(message);
    this.command = command;
    this.guess = guess;
  }
}

/**
 * argv to `{ command, values, positionals }`: `command` is null when none is given. Throws a
 * UsageError for an unknown command or flag (with a guess to complete), a missing value or a
 * value given to a switch.
 */
export function parse(argv) {
  // First pass: find the command (the first positional) without knowing its options.
  const first = argv.findIndex((a) => !a.startsWith('-'));
  const command = first === -1 ? null : argv[first];
  if (command !== null && !COMMAND_NAMES.includes(command)) {
    const message = (guess) =>
      `unknown command '${command}'` + (guess ? `; did you mean '${guess}'?` : '') + ` (commands: ${COMMAND_NAMES.join(', ')})`;
    throw new UsageError(message(null), undefined, { word: command, candidates: COMMAND_NAMES, message });
  }
  const options = parseOptions(command ?? 'main');
  const args = command ? [...argv.slice(0, first), ...argv.slice(first + 1)] : argv;

  // strict: false so that we, not parseArgs, word the message for an unknown flag.
  const { values, positionals, tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
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

// Values: each check names the flag, as the user typed it.

/** A number of seconds above 0, or a usage error naming the flag. */
export function seconds(values, name, command) {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number of seconds above 0, not '${raw}'`, command);
  return n;
}

/** A whole number flag of at least `min`, or a usage error naming it. */
export function count(values, name, min, command) {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number of at least ${min}, not '${raw}'`, command);
  return n;
}

/** A number of USD above 0, or a usage error naming the flag. */
export function usd(values, name, command) {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!(n > 0)) throw new UsageError(`--${name} must be a number of USD above 0, not '${raw}'`, command);
  return n;
}
