// node/commands/init.js: `scenario-lab init [dir]`: a new project folder with a scenario and a
// batch config. On a terminal, a short interview (node's readline, questions on stderr);
// elsewhere, from an answers file (--answers) or a template (--template), with a few flags over
// either. `--example NAME` copies one of the package's example experiments and its scenario.
// The core makes the files from the answers and decides where they may go (src/init/,
// src/outdir.rs); this file asks, writes, then validates and plans what it wrote through the
// usual paths (`validate`, `run --dry-run`).

import { readFile, readdir } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { UsageError, count, usd } from '../flags.js';
import { dirFacts, nodeStorage } from '../storage.js';
import { EXIT, colorFor, err, out, paint, plural, printDiagnostics } from '../output.js';

/** The package's own folder: its examples are copied from here. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function init(api, values, positionals) {
  if (positionals.length > 1) throw new UsageError(`init takes one folder, got ${positionals.length}`, 'init');
  const given = ['template', 'answers', 'example'].filter((k) => values[k] !== undefined);
  if (given.length > 1) throw new UsageError(`give one of --${given.join(', --')}`, 'init');
  const overrides = {
    title: values.title,
    model: values.model,
    turns: count(values, 'turns', 1, 'init'),
    runs: count(values, 'runs', 1, 'init'),
    budget: usd(values, 'budget-limit', 'init'),
  };
  const core = await api();
  if (values.example !== undefined) {
    if (Object.values(overrides).some((v) => v !== undefined)) {
      throw new UsageError('--example copies an example as it is: --title, --model, --turns, --runs and --budget-limit go with --template or --answers', 'init');
    }
    await copyExample(core, values, positionals[0] ?? values.example);
    return;
  }

  let answers;
  let folder;
  if (values.answers !== undefined) {
    let text;
    try {
      text = await readFile(values.answers, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read the answers file ${values.answers}: ${e.code ?? e.message}`, 'init');
    }
    answers = core.readInitAnswers(text, values.answers);
  } else if (values.template !== undefined) {
    answers = core.initTemplate(values.template);
  } else if (process.stdin.isTTY && process.stderr.isTTY) {
    const asked = await interview(core, overrides, positionals[0]);
    if (asked === null) {
      err('\nscenario-lab: the interview ended before its last answer (Ctrl+C or Ctrl+D): nothing was written');
      process.exitCode = EXIT.usage;
      return;
    }
    ({ answers, folder } = asked);
  } else {
    throw new UsageError('init asks its questions on a terminal; elsewhere give --answers FILE (JSON) or --template NAME', 'init');
  }
  const project = core.initProject(answers, overrides);
  const dir = positionals[0] ?? folder ?? project.scenario_dir.split('/').pop();
  await writeProject(core, values, dir, project.files.map((f) => [f.path, f.text]), project.batch_config);
}

/** `--example NAME`: the package's experiments/NAME and its scenario, copied as they are. */
async function copyExample(core, values, dir) {
  const examples = (await readdir(`${PACKAGE_ROOT}experiments`, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const name = values.example;
  if (!examples.includes(name)) {
    const guess = core.suggest(name, examples);
    throw new UsageError(`there is no example '${name}'${guess ? `; did you mean '${guess}'?` : ''} (examples: ${examples.join(', ')})`, 'init');
  }
  const source = nodeStorage({ root: PACKAGE_ROOT });
  const config = `experiments/${name}/batch-config.yaml`;
  const loaded = await core.loadBatchConfig(config, source);
  const files = [[config, await text(source, config)]];
  for (const path of await filesUnder(source, loaded.scenario_dir)) files.push([path, await text(source, path)]);
  await writeProject(core, values, dir, files, config);
}

async function text(storage, path) {
  return new TextDecoder().decode(await storage.read(path));
}

/** Every file under `dir` of a storage, recursively, `/`-separated. */
async function filesUnder(storage, dir) {
  const out = [];
  for (const name of (await storage.list(dir)) ?? []) {
    const path = `${dir}/${name}`;
    const inner = await storage.list(path);
    if (inner === null) out.push(path);
    else out.push(...(await filesUnder(storage, path)));
  }
  return out;
}

/**
 * Writes the files into `dir` (new, or empty, or anything with --force, as the core's policy
 * says), then validates the batch config and prints its plan, as `validate` and `run --dry-run`
 * would from inside the folder, and the commands that run it.
 */
async function writeProject(core, values, dir, files, config) {
  for (const n of core.checkProjectDir(dirFacts(dir), { force: Boolean(values.force) })) err(`scenario-lab: ${n}`);
  const storage = nodeStorage({ root: dir });
  for (const [path, body] of files) await storage.write(path, body);
  const color = colorFor(process.stdout, false);
  out(`Wrote ${plural(files.length, 'file')} into ${dir}/:`);
  for (const [path] of files) out(`    ${path}`);

  const report = await core.validate(config, storage);
  printDiagnostics([...report.errors, ...report.warnings]);
  out(`\n${report.ok ? paint('green', 'valid', process.stdout, color) : paint('red', 'invalid', process.stdout, color)} batch config: ${config} (${plural(report.errors.length, 'error')}, ${plural(report.warnings.length, 'warning')})`);
  if (!report.ok) {
    process.exitCode = EXIT.invalid;
    return;
  }
  const plan = await core.planBatch(config, storage, {});
  // The plan without its closing "This was a dry run: nothing was written…", untrue just after
  // writing the files; the commands that run it follow instead.
  const rendered = core.renderPlan(plan, { color }).split('\n');
  const closing = rendered.findIndex((line) => line.includes('This was a dry run'));
  out(`\n${(closing < 0 ? rendered : rendered.slice(0, closing)).join('\n')}`);
  out('Run it from the project folder:');
  out(`    cd ${dir}`);
  out(`    npx scenario-lab run ${config}`);
  process.exitCode = EXIT.ok;
}

// ---------------------------------------------------------------------------------------------
// The interview. Every question shows its default in brackets; Enter takes it.

/**
 * Asks for the answers on the terminal: a template to start from (its answers become the
 * defaults), then the scenario, its actors, turns, metrics, models, runs and budget. Resolves
 * to null when the person leaves (Ctrl+C, or Ctrl+D on an empty answer).
 */
async function interview(core, overrides, dir) {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // Without a listener readline only pauses on Ctrl+C; the signal ends the pending question.
  const leave = new AbortController();
  rl.on('SIGINT', () => leave.abort());
  const question = (text) => rl.question(text, { signal: leave.signal });
  try {
    return await questions(core, overrides, dir, question);
  } catch (e) {
    if (e?.code === 'ABORT_ERR' || e?.code === 'ERR_USE_AFTER_CLOSE') return null;
    throw e;
  } finally {
    rl.close();
  }
}

async function questions(core, overrides, dir, question) {
  const ask = async (text, fallback = '') => {
    for (;;) {
      const shown = fallback === '' ? '' : ` [${short(String(fallback))}]`;
      const answer = (await question(`${text}${shown}: `)).trim();
      if (answer !== '') return answer;
      if (fallback !== '') return String(fallback);
    }
  };
  const askNumber = async (text, fallback, { whole = true, optional = false } = {}) => {
    for (;;) {
      const raw = optional && fallback === undefined ? (await question(`${text} [none]: `)).trim() : await ask(text, fallback);
      if (optional && (raw === '' || raw === 'none')) return undefined;
      const n = Number(raw);
      if (Number.isFinite(n) && n > 0 && (!whole || Number.isSafeInteger(n))) return n;
      err(`    ${whole ? 'a whole number above 0' : 'a number above 0'}, please`);
    }
  };
  const list = (text) => text.split(';').map((s) => s.trim()).filter(Boolean);
  {
    err('New scenario. Enter takes the answer in [brackets].\n');
    const templates = core.initTemplates();
    err('Start from a template?');
    templates.forEach((t, i) => err(`    ${i + 1}  ${t.name}: ${t.summary}`));
    err(`    ${templates.length + 1}  blank`);
    let base = null;
    for (;;) {
      const pick = await ask('Template', templates.length + 1);
      const i = Number(pick) - 1;
      const named = templates.find((t) => t.name === pick);
      if (named || (i >= 0 && i < templates.length)) base = core.initTemplate((named ?? templates[i]).name);
      if (base || i === templates.length) break;
    }
    base ??= { title: '', description: '', situation: '', actors: [], turns: 3, metrics: [], runs: 3, communication: false };

    const title = overrides.title ?? (await ask('Title', base.title));
    const description = await ask('What is it about (the question it explores)', base.description);
    const situation = await ask('Where do things stand at the start', base.situation || description);

    const models = core.initModels();
    err('\nModels (USD per million prompt / completion tokens):');
    models.forEach((m, i) => err(`    ${String(i + 1).padStart(2)}  ${m.id.padEnd(36)} ${m.prompt === 0 && m.completion === 0 ? 'free, offline' : `$${m.prompt} / $${m.completion}`}`));
    err('    or type any model id (OpenRouter ids, ollama/NAME, local/NAME)\n');
    const askModel = async (text, fallback) => {
      const pick = await ask(text, fallback);
      const i = Number(pick);
      return Number.isInteger(i) && i >= 1 && i <= models.length ? models[i - 1].id : pick;
    };

    const actorCount = await askNumber('How many actors', base.actors.length || 2);
    const actors = [];
    for (let i = 0; i < actorCount; i++) {
      const b = base.actors[i] ?? {};
      err(`Actor ${i + 1}`);
      const name = await ask('    name', b.name ?? '');
      const role = await ask('    role', b.role ?? '');
      const goals = list(await ask('    goals (separated by ;)', (b.goals ?? []).join('; ')));
      const model = overrides.model ?? (await askModel('    model (number or id)', b.model ?? models[0].id));
      actors.push({ name, ...(b.name === name && b.short_name ? { short_name: b.short_name } : {}), role, goals, model });
    }

    const turns = overrides.turns ?? (await askNumber('Turns', base.turns));
    const turnDuration = await ask('How long is a turn in the story', base.turn_duration ?? '1 week');
    const talk = await ask('May actors talk in private and form coalitions (y/n)', base.communication ? 'y' : 'n');

    const metricCount = await askNumber('How many metrics to track', base.metrics.length || 1);
    const metrics = [];
    for (let i = 0; i < metricCount; i++) {
      const b = base.metrics[i] ?? {};
      err(`Metric ${i + 1}`);
      const name = await ask('    name', b.name ?? (i === 0 ? 'progress' : ''));
      const asked = await ask('    question asked of each turn', b.question ?? (i === 0 ? 'How close is the situation to being resolved, from 0 to 10?' : ''));
      let kind;
      while (!['continuous', 'boolean', 'categorical'].includes(kind)) kind = await ask('    kind: continuous, boolean or categorical', b.kind ?? 'continuous');
      const metric = { name, question: asked, kind };
      if (kind === 'continuous') {
        for (;;) {
          const m = /^\s*(-?[\d.]+)\s*(?:-|to|,)\s*(-?[\d.]+)\s*$/.exec(await ask('    range (min-max)', (b.range ?? [0, 10]).join('-')));
          if (m && Number(m[1]) < Number(m[2])) {
            metric.range = [Number(m[1]), Number(m[2])];
            break;
          }
          err('    two numbers, the smaller first (0-10), please');
        }
      }
      if (kind === 'categorical') metric.categories = list(await ask('    categories (separated by ;)', (b.categories ?? []).join('; ')));
      metrics.push(metric);
    }

    const runs = overrides.runs ?? (await askNumber('Runs', base.runs));
    const budget = overrides.budget ?? (await askNumber('Budget in USD (Enter: no limit)', base.budget ?? undefined, { whole: false, optional: true }));
    const answers = {
      title, description, situation, actors, turns, turn_duration: turnDuration, metrics,
      communication: /^y(es)?$/i.test(talk), runs, ...(budget === undefined ? {} : { budget }),
    };
    // The answers' problems are said now, before the folder is asked for.
    const slug = core.initProject(answers, {}).scenario_dir.split('/').pop();
    const folder = dir ?? (await ask('Folder to write the project into', slug));
    err('');
    return { answers, folder };
  }
}

/** A default as shown in brackets: long ones cut, on one line. */
function short(text) {
  const line = text.replace(/\s+/g, ' ');
  return line.length > 50 ? `${line.slice(0, 47)}...` : line;
}
