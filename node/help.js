// node/help.js owns the help text. Each command's help is a template in the order purpose,
// usage, options, notes, environment, exit status, examples; its COMMANDS, options and
// ENVIRONMENT sections are generated from the tables in node/flags.js, so a flag cannot be
// accepted without being documented, or documented without being accepted.

import { readFileSync } from 'node:fs';
import { CATEGORIES, COMMANDS, ENVIRONMENT, FLAGS, rowsFor } from './flags.js';

const PKG = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** Help lines are wrapped to this many columns. */
const WIDTH = 95;
const INDENT = '    ';

/** `text` in lines of at most `width` columns (a longer word stands alone). */
function wrap(text, width) {
  const lines = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** Two columns: each left cell padded to the widest, each right cell wrapped beside it. */
function columns(rows) {
  const left = Math.max(...rows.map(([l]) => l.length)) + 3;
  return rows
    .map(([l, r]) => wrap(r, WIDTH - INDENT.length - left)
      .map((line, i) => `${INDENT}${(i === 0 ? l : '').padEnd(left)}${line}`)
      .join('\n'))
    .join('\n');
}

/** A flag's left cell: `-h, --help`, `--port N`. */
const flagCell = (f) => `${f.short ? `-${f.short}, ` : ''}--${f.name}${f.arg ? ` ${f.arg}` : ''}`;
/** A flag's help, with its default: `(off)` for a switch, `(default: ...)` for a value. */
function flagHelp(f) {
  if (f.default === undefined) return f.help;
  return `${f.help} (${f.arg ? `default: ${f.default}` : f.default})`;
}

/** The options of `command`, grouped under their category titles. */
export function optionsSection(command) {
  const flags = rowsFor(FLAGS, command);
  const left = Math.max(...flags.map((f) => flagCell(f).length));
  return CATEGORIES
    .map(([category, title]) => {
      const group = flags.filter((f) => f.category === category);
      if (!group.length) return null;
      // Padded alike in every group of the command, so the help columns line up.
      return `${title}:\n${columns(group.map((f) => [flagCell(f).padEnd(left), flagHelp(f)]))}`;
    })
    .filter(Boolean)
    .join('\n\n');
}

/** The ENVIRONMENT section of `command`. */
export function environmentSection(command) {
  return `ENVIRONMENT:\n${columns(rowsFor(ENVIRONMENT, command).map((e) => [e.name, e.help]))}`;
}

/** The COMMANDS section of the main help. */
function commandsSection() {
  return `COMMANDS:\n${columns(COMMANDS.map((c) => [`${c.name} ${c.args}`, c.summary]))}`;
}

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

// The templates. {{commands}}, {{options}} and {{environment}} are filled in from the tables.
const TEMPLATES = {
  main: `scenario-lab ${PKG.version}
Run multi-actor LLM scenario simulations as statistical batch experiments.

USAGE:
    scenario-lab <command> [options]

{{commands}}

{{options}}

{{environment}}

${EXIT_TABLE}

EXAMPLES:
    scenario-lab init
    scenario-lab init --example quick-start
    scenario-lab validate scenarios/quick-negotiation
    scenario-lab scenario scenarios/quick-negotiation
    scenario-lab run experiments/quick-start/batch-config.yaml --dry-run
    scenario-lab analyze experiments/quick-start --report
`,

  init: `scenario-lab init
Write a new project folder: a scenario (scenarios/<name>/: scenario.yaml, actors/, metrics.yaml)
and a batch config (experiments/<name>/batch-config.yaml), commented like the examples; then
validate them and print the batch's plan. On a terminal it asks: what the scenario is about,
the actors (name, role, goals, model from a short list with prices), turns, metrics (name,
question, kind), runs and budget; Enter takes the answer in [brackets]. Elsewhere, give
--answers or --template. The folder must be new or empty (--force writes into another).

USAGE:
    scenario-lab init [dir] [options]
    scenario-lab init [dir] --template NAME [--title TEXT] [--model ID] [--runs N] ...
    scenario-lab init [dir] --answers FILE
    scenario-lab init [dir] --example NAME

ARGUMENTS:
    [dir]    the project folder (default: named after the title, or the example)

{{options}}

ANSWERS FILE (JSON):
    { "title": "...", "description": "what it is about", "situation": "the start",
      "actors": [{ "name": "...", "role": "...", "goals": ["..."],
                   "model": "builtin/simulator" }],
      "turns": 3, "turn_duration": "1 week", "communication": false,
      "metrics": [{ "name": "deal_reached", "question": "Is there a deal?",
                    "kind": "boolean" },
                  { "name": "tension", "question": "How tense?",
                    "kind": "continuous", "range": [0, 10] },
                  { "name": "phase", "question": "Which phase?",
                    "kind": "categorical", "categories": ["talks", "deal"] }],
      "runs": 3, "budget": 5 }
    Only title, actors (name, role) and metrics (name, question, kind) are required.

EXIT STATUS:
    0   the project was written and is valid
    2   bad usage, answers that do not make a scenario, or a folder that is not empty (without
        --force), a root, a system folder or the home folder

EXAMPLES:
    scenario-lab init
    scenario-lab init my-study --template bilateral-negotiation --title "Port Strike Talks"
    scenario-lab init my-study --answers answers.json
    scenario-lab init --example quick-start
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

{{options}}

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

{{options}}

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
The folders must be the N shards of one batch: the same config and seed, each shard once, none
missing (each is named when refused). The total spent is reported against the batch's budget,
the sum of the shards' shares.

USAGE:
    scenario-lab merge <shard-dir>... --output <dir>

{{options}}

${EXIT_TABLE}

EXAMPLES:
    scenario-lab merge shard-1/experiments/robustness shard-2/experiments/robustness --output merged
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

{{options}}

MODELS:
    builtin/simulator      the built-in simulator: no network, no key, no cost. It is a
                           simulator for trying the tool and testing scenarios, not a
                           language model.
    ollama/M, local/M      model M on the server at OLLAMA_BASE_URL (http://localhost:11434)
    anything else          OpenRouter (or --base-url)

{{environment}}

EXIT STATUS:
    0   the run completed
    1   the run stopped early (failed, or halted at its cost limit): resume it with --resume
    2   bad usage, or an invalid scenario, or an --output that is a root, a system folder, the
        home folder, or a non-empty folder that is not a run folder (without --force)

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

{{options}}

${MODEL_CHECK_HELP}
    For validate an unknown id is a warning.

{{environment}}

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

{{options}}

Before anything is written: output_dir must not be a filesystem root, a system folder (/etc,
/usr, C:\\Windows, ...) or the home folder itself, nor (without --force) a non-empty folder
that is not a Scenario Lab output folder; a symbolic link is followed and said. A batch of
more than 100,000 runs, a run of more than 1,000 turns, or an expected cost over 3 times
budget_limit (or a run expected to take over 3 times timeout_per_run) asks "Continue? [y/N]"
on a terminal and is refused elsewhere without --yes; --dry-run shows these figures.

Ctrl+C once: no new run starts, calls in flight finish, everything is saved, and the command
to resume is printed. Twice: exit at once (the files on disk stay consistent).

${MODEL_CHECK_HELP}
    For run (and --dry-run) an unknown id is an error: nothing is written or sent.

{{environment}}

EXIT STATUS:
    0   the batch completed (or the plan was printed, or a pilot ended as asked)
    1   the batch ended with failed runs, or stopped at its budget or on request: --resume
    2   bad usage, an invalid config, or a batch that will not start (a model with no price
        under a budget, a model id the provider does not list, a config changed since the
        batch started, an output_dir that is a root, a system folder or someone else's files,
        a size that needs confirming without --yes off a terminal)

EXAMPLES:
    scenario-lab run experiments/quick-start/batch-config.yaml
    scenario-lab run experiments/quick-start/batch-config.yaml --dry-run
    scenario-lab run experiments/model-comparison/batch-config.yaml --pilot 2
    scenario-lab run experiments/model-comparison/batch-config.yaml --resume --budget-limit 40
    scenario-lab run experiments/robustness/batch-config.yaml --shard 1/2 --seed 42
    scenario-lab run experiments/robustness/batch-config.yaml --shard auto --seed 42
`,
};

/** The commands that have a help page of their own. */
export const HELP_TOPICS = Object.keys(TEMPLATES).filter((t) => t !== 'main');

/** The help text of `command` (`main`: the tool's). */
export function helpText(command = 'main') {
  return TEMPLATES[command]
    .replace('{{commands}}', () => commandsSection())
    .replace('{{options}}', () => optionsSection(command))
    .replace('{{environment}}', () => environmentSection(command));
}
