// `scenario-lab init` through the real CLI and the real wasm build (issue 16): the interview on
// a pseudo-terminal (tests/node/pty.mjs), each answer typed only once its question shows; the
// same from an answers file, a template and flags off a terminal; the folder policy; and the
// copied example. Every project written is validated, planned and run on the built-in model.
// Needs pkg/ built.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli } from './run-cli.mjs';
import { onTerminal } from './pty.mjs';

let tmp;

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-init-'));
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A fresh folder to run the CLI in. */
function workdir(name) {
  const dir = join(tmp, name);
  mkdirSync(dir);
  return dir;
}

/** Types `answer` once `question` shows on the terminal. */
async function answer(term, question, text) {
  await term.waitFor(question);
  term.type(text);
}

const read = (...p) => readFileSync(join(...p), 'utf8');

test('the interview on a terminal writes a valid project, prints its plan, and the project runs', async () => {
  const cwd = workdir('interview');
  const term = onTerminal(process.execPath, [CLI, 'init'], { cwd });
  await answer(term, 'Template [4]: ', '');
  await answer(term, 'Title: ', 'Harbour Strike Talks');
  await answer(term, 'What is it about (the question it explores): ', 'Can the port authority and the dockers\' union end a strike before the holiday season?');
  await answer(term, 'Where do things stand at the start [', 'Day 3 of the strike: no ships are unloaded. Union asks 8%, port offers 3%.');
  // The model list, with prices, shows before the first model question.
  const models = await term.waitFor('How many actors [2]: ');
  assert.match(models, /1 +builtin\/simulator +free, offline/);
  assert.match(models, /openai\/gpt-5-mini +\$0\.25 \/ \$2/);
  term.type('');
  await answer(term, '    name: ', 'Port Authority');
  await answer(term, '    role: ', 'Runs the harbour');
  await answer(term, '    goals (separated by ;): ', 'Reopen the port; Keep wage rises under 5%');
  await answer(term, '    model (number or id) [builtin/simulator]: ', '');
  await answer(term, '    name: ', 'Dockers\' Union');
  await answer(term, '    role: ', 'Represents 900 dockers');
  await answer(term, '    goals (separated by ;): ', 'Win 8%');
  await answer(term, '    model (number or id) [builtin/simulator]: ', '1');
  await answer(term, 'Turns [3]: ', 'two');
  await answer(term, 'a whole number above 0, please', '2');
  await answer(term, 'How long is a turn in the story [1 week]: ', '1 day');
  await answer(term, 'form coalitions (y/n) [n]: ', 'y');
  await answer(term, 'How many metrics to track [1]: ', '2');
  await answer(term, '    name [progress]: ', 'Strike over');
  await answer(term, 'question asked of each turn [', 'Has the strike ended?');
  await answer(term, 'kind: continuous, boolean or categorical [continuous]: ', 'boolean');
  await answer(term, '    name: ', 'tension');
  await answer(term, 'question asked of each turn: ', 'How tense are the talks?');
  await answer(term, 'kind: continuous, boolean or categorical [continuous]: ', '');
  await answer(term, 'range (min-max) [0-10]: ', '1-5');
  await answer(term, 'Runs [3]: ', '2');
  await answer(term, 'Budget in USD (Enter: no limit) [none]: ', '');
  await answer(term, 'Folder to write the project into [harbour-strike-talks]: ', '');
  const code = await term.exited;
  const shown = term.output();
  assert.equal(code, 0, shown);
  assert.match(shown, /Wrote 5 files into harbour-strike-talks\//);
  assert.match(shown, /valid batch config: experiments\/harbour-strike-talks\/batch-config\.yaml \(0 errors, 0 warnings\)/);
  assert.match(shown, /Plan: harbour-strike-talks/);
  assert.match(shown, /1 variation x 2 runs = 2 runs/);
  assert.match(shown, /cd harbour-strike-talks\n +npx scenario-lab run experiments\/harbour-strike-talks\/batch-config\.yaml/);

  const project = join(cwd, 'harbour-strike-talks');
  const scenario = read(project, 'scenarios/harbour-strike-talks/scenario.yaml');
  assert.match(scenario, /^name: "Harbour Strike Talks"$/m);
  assert.match(scenario, /^turns: 2$/m);
  assert.match(scenario, /^turn_duration: "1 day"$/m);
  assert.match(scenario, /^enable_coalition_formation: true$/m);
  assert.match(scenario, /Union asks 8%, port offers 3%\./);
  assert.deepEqual(readdirSync(join(project, 'scenarios/harbour-strike-talks/actors')).sort(), ['dockers-union.yaml', 'port-authority.yaml']);
  assert.match(read(project, 'scenarios/harbour-strike-talks/actors/port-authority.yaml'), /goals:\n  - "Reopen the port"\n  - "Keep wage rises under 5%"\n/);
  const metrics = read(project, 'scenarios/harbour-strike-talks/metrics.yaml');
  assert.match(metrics, /- name: strike_over\n    description: "Has the strike ended\?"\n    type: boolean\n/);
  assert.match(metrics, /- name: tension\n.*\n    type: continuous\n    range: \[1, 5\]\n/);
  assert.match(read(project, 'experiments/harbour-strike-talks/batch-config.yaml'), /^runs_per_variation: 2$/m);

  const run = await runCli(['run', 'experiments/harbour-strike-talks/batch-config.yaml'], { cwd: project });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /Completed 2 of 2 runs/);
  const final = JSON.parse(read(project, 'experiments/harbour-strike-talks/runs/var-001-run-001/metrics.json')).final_metrics;
  assert.ok(final.strike_over === 0 || final.strike_over === 1, JSON.stringify(final));
  assert.ok(final.tension >= 1 && final.tension <= 5, JSON.stringify(final));
});

test('the interview starts from a template: Enter keeps every answer of it', async () => {
  const cwd = workdir('interview-template');
  const term = onTerminal(process.execPath, [CLI, 'init', 'water', '--runs', '1'], { cwd });
  const menu = await term.waitFor('Template [4]: ');
  assert.match(menu, /2 +multi-party-coalition: four parties/);
  term.type('multi-party-coalition');
  // Every other question has the template's answer in brackets; --runs was given, so runs is not asked.
  for (;;) {
    // Once the last question is answered the command ends, and the wait with it.
    const shown = await term.waitFor(/\]: $/).catch(() => null);
    if (shown === null) break;
    assert.doesNotMatch(shown, /^Runs/m);
    term.type('');
  }
  const shown = term.output();
  assert.equal(await term.exited, 0, shown);
  assert.match(shown, /valid batch config: experiments\/regional-water-allocation\/batch-config\.yaml/);
  assert.match(shown, /4 actors/);
  assert.match(shown, /1 variation x 1 run = 1 run/);
  assert.match(read(cwd, 'water/scenarios/regional-water-allocation/metrics.yaml'), /categories: \["farmers", "city", "power", "trust", "balanced"\]/);
});

test('Ctrl+C in the interview ends it: exit 2, nothing written', async () => {
  const cwd = workdir('interrupted');
  const term = onTerminal(process.execPath, [CLI, 'init', 'left'], { cwd });
  await answer(term, 'Template [4]: ', '1');
  await term.waitFor('Title [Supplier Contract Renewal]: ');
  term.type('\x03');
  assert.equal(await term.exited, 2, term.output());
  assert.match(term.output(), /the interview ended before its last answer \(Ctrl\+C or Ctrl\+D\): nothing was written/);
  assert.deepEqual(readdirSync(cwd), []);
});

test('off a terminal: an answers file, with flags over it', async () => {
  const cwd = workdir('answers');
  writeFileSync(join(cwd, 'answers.json'), JSON.stringify({
    title: 'Budget Vote',
    description: 'Will the council pass the budget?',
    actors: [
      { name: 'Mayor', role: 'Proposes the budget', goals: ['Pass it'] },
      { name: 'Opposition', role: 'Votes against', goals: ['Cut spending'], model: 'builtin/cautious' },
    ],
    metrics: [{ name: 'passed', question: 'Has the budget passed?', kind: 'boolean' }],
    turns: 2,
  }));
  const r = await runCli(['init', 'vote', '--answers', 'answers.json', '--title', 'Budget Vote 2027', '--runs', '2', '--model', 'openai/gpt-5-nano', '--budget-limit', '3'], { cwd });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /valid batch config: experiments\/budget-vote-2027\/batch-config\.yaml/);
  // The plan is the dry run's: the hosted model's price from the table, against the budget.
  assert.match(r.stdout, /openai\/gpt-5-nano +\$0\.05 \/ \$0\.4 /);
  assert.match(r.stdout, /Budget \$3\.00 for the batch/);
  const config = read(cwd, 'vote/experiments/budget-vote-2027/batch-config.yaml');
  assert.match(config, /^budget_limit: 3$/m);
  assert.match(config, /^runs_per_variation: 2$/m);
  assert.match(config, /Hosted models need a key \(OPENROUTER_API_KEY\)/);
  for (const actor of ['mayor', 'opposition']) {
    assert.match(read(cwd, `vote/scenarios/budget-vote-2027/actors/${actor}.yaml`), /^llm_model: "openai\/gpt-5-nano"$/m);
  }
});

test('off a terminal: a template with a title; without answers or a template, a usage error', async () => {
  const cwd = workdir('template');
  const r = await runCli(['init', 'crisis', '--template', 'crisis-response', '--title', 'Flood Night'], { cwd });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(cwd, 'crisis/experiments/flood-night/batch-config.yaml')));
  const none = await runCli(['init', 'x'], { cwd });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /init asks its questions on a terminal; elsewhere give --answers FILE \(JSON\) or --template NAME/);
  const typo = await runCli(['init', 'x', '--template', 'crisis'], { cwd });
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /there is no template 'crisis'.*\(templates: bilateral-negotiation, multi-party-coalition, crisis-response\)/);
  assert.ok(!existsSync(join(cwd, 'x')), 'nothing is written for a usage error');
});

test('bad answers: the file, line and column, or every problem by its answer; nothing is written', async () => {
  const cwd = workdir('bad');
  writeFileSync(join(cwd, 'typo.json'), '{\n  "title": "T",\n  "actor": []\n}\n');
  const typo = await runCli(['init', 'out', '--answers', 'typo.json'], { cwd });
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /typo\.json:3:9: unknown field `actor`, expected one of `title`/);
  writeFileSync(join(cwd, 'empty.json'), JSON.stringify({ title: 'T', actors: [{ name: 'A', role: '' }], metrics: [], runs: 0 }));
  const empty = await runCli(['init', 'out', '--answers', 'empty.json'], { cwd });
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /the answers do not make a scenario \(3 problems\):\n  actors\[0\]\.role: is empty.*\n  runs: is 0; expected 1 to 100000\n  metrics: is empty/);
  const missing = await runCli(['init', 'out', '--answers', 'nope.json'], { cwd });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read the answers file nope\.json: ENOENT/);
  assert.ok(!existsSync(join(cwd, 'out')));
});

test('a folder that is not empty is refused unless --force', async () => {
  const cwd = workdir('force');
  mkdirSync(join(cwd, 'mine'));
  writeFileSync(join(cwd, 'mine', 'notes.txt'), 'keep me');
  const args = ['init', 'mine', '--template', 'bilateral-negotiation'];
  const refused = await runCli(args, { cwd });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /the output folder `mine` .*is not empty \(it holds `notes\.txt`\).*pass --force/);
  assert.deepEqual(readdirSync(join(cwd, 'mine')), ['notes.txt']);
  const forced = await runCli([...args, '--force'], { cwd });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(read(cwd, 'mine', 'notes.txt'), 'keep me');
  assert.ok(existsSync(join(cwd, 'mine/experiments/supplier-contract-renewal/batch-config.yaml')));
});

test('--example copies an example experiment and its scenario, and it runs from the new folder', async () => {
  const cwd = workdir('example');
  const r = await runCli(['init', '--example', 'quick-start', 'first'], { cwd });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Wrote 5 files into first\//);
  assert.doesNotMatch(r.stdout, /nothing was written/, 'the plan after writing does not say nothing was written');
  assert.match(r.stdout, /cd first\n +npx scenario-lab run experiments\/quick-start\/batch-config\.yaml/);
  const run = await runCli(['run', 'experiments/quick-start/batch-config.yaml'], { cwd: join(cwd, 'first') });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /Completed 3 of 3 runs/);
  const typo = await runCli(['init', '--example', 'quickstart'], { cwd });
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /there is no example 'quickstart'; did you mean 'quick-start'\?/);
});
