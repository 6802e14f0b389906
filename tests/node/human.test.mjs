// A person plays an actor (issue 16, part 3), through the real CLI on a pseudo-terminal
// (tests/node/pty.mjs) and the real wasm build; the other actor and the world are played by
// the fake OpenAI-compatible server on 127.0.0.1. The person sees what a model in the seat
// would (the world state, their goals), types a reply ended by a line with only '.', or writes
// it in $EDITOR; the call log records it as model `human` at $0; a run killed while it waits
// for the person resumes without asking again what was answered; off a terminal, and in a
// batch of parallel runs, a seat a person plays is refused with a clear message. Needs pkg/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLlm } from '../fake-llm/server.mjs';
import { CLI, ROOT, runCli } from './run-cli.mjs';
import { onTerminal } from './pty.mjs';

/** The CLI on a pseudo-terminal (tests/node/pty.mjs). */
const cliOnTerminal = (args, options = {}) => onTerminal(process.execPath, [CLI, ...args], { cwd: ROOT, ...options });

let srv;
let tmp;

before(async () => {
  srv = await startFakeLlm({ port: 0, latencyMs: 5, costPerCall: 0.0001 });
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-human-'));
});

after(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** quick-negotiation in a fresh folder: council played by a person (`human: true`, line 3), the
 * rest by a hosted model id that --base-url sends to the fake server. */
function scenarioWithPerson(name) {
  const dir = join(tmp, name);
  cpSync(join(ROOT, 'scenarios', 'quick-negotiation'), dir, { recursive: true });
  const council = join(dir, 'actors', 'council.yaml');
  writeFileSync(council, readFileSync(council, 'utf8').replace('llm_model: "builtin/simulator"', 'human: true'));
  for (const f of [join(dir, 'scenario.yaml'), join(dir, 'actors', 'swiftride.yaml')]) {
    writeFileSync(f, readFileSync(f, 'utf8').replaceAll('builtin/simulator', 'openai/gpt-4o-mini'));
  }
  return dir;
}

const calls = (out) => readFileSync(join(out, 'llm-calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const mine = (out) => calls(out).filter((c) => c.model === 'human');

/** Waits for the person's question of `turn` and types `lines`, then '.'. */
async function answer(term, turn, lines) {
  await term.waitFor(`=== council, turn ${turn}: decision (t${turn}/decision/council) ===`);
  await term.waitFor('Your reply as council');
  await term.waitFor('> ');
  for (const l of lines) term.type(l);
  term.type('.');
}

test('a person plays an actor on the terminal: sees its prompt, types the reply, and it is logged as model human at $0', async () => {
  const dir = scenarioWithPerson('typed');
  const out = join(tmp, 'typed-run');
  const editor = join(tmp, 'editor.sh');
  // Turn 3's reply is written in $EDITOR (':e'): the editor puts it above the cut line.
  writeFileSync(editor, `#!/bin/sh\ncp "$1" "${join(tmp, 'seen.md')}"\n{ printf '**ACTION:**\\nFrom the editor: a six-month pilot.\\n\\n'; cat "$1"; } > "$1.new" && mv "$1.new" "$1"\n`);
  chmodSync(editor, 0o755);
  const term = cliOnTerminal(['scenario', dir, '--output', out, '--base-url', srv.url], { env: { EDITOR: editor } });
  await term.waitFor('=== council, turn 1: decision (t1/decision/council) ===');
  await term.waitFor('Your reply as council');
  const shown = term.output();
  // What a model would see: the world state, the actor's goals, the answer format.
  assert.match(shown, /--- system ---/);
  assert.match(shown, /Obtain trip data detailed enough to plan two new bus corridors/);
  assert.match(shown, /Week 0 — talks open/);
  assert.match(shown, /\*\*ACTION:\*\*/);
  await term.waitFor('> ');
  term.type('**ACTION:**');
  term.type('We offer a 24-hour delay on pickup points.');
  term.type('');
  term.type('**REASONING:**');
  term.type('Privacy first.');
  term.type('.');
  await answer(term, 2, ['**ACTION:**', 'We accept district totals, weekly.']);
  await term.waitFor('=== council, turn 3: decision');
  await term.waitFor('> ');
  term.type(':e');
  assert.equal(await term.exited, 0, term.output());
  assert.match(term.output(), /completed 3 turns/);
  const replies = mine(out);
  assert.deepEqual(replies.map((c) => c.key), ['t1/decision/council', 't2/decision/council', 't3/decision/council']);
  for (const c of replies) {
    assert.equal(c.cost_nanos, 0);
    assert.equal(c.provider, 'human');
    assert.equal(c.prompt_tokens + c.completion_tokens, 0);
  }
  assert.equal(replies[0].reply, '**ACTION:**\nWe offer a 24-hour delay on pickup points.\n\n**REASONING:**\nPrivacy first.');
  assert.equal(replies[2].reply, '**ACTION:**\nFrom the editor: a six-month pilot.');
  // The same parser as for models: the action is the ACTION section.
  const decision = readFileSync(join(out, 'council-001.md'), 'utf8');
  assert.match(decision, /We offer a 24-hour delay on pickup points\./);
  // The editor's file showed the prompt below the cut.
  assert.match(readFileSync(join(tmp, 'seen.md'), 'utf8'), /--- Write your reply above this line[^\n]*\n=== council, turn 3: decision/);
  // The model calls were paid, the person's were not.
  const costs = JSON.parse(readFileSync(join(out, 'costs.json'), 'utf8'));
  assert.ok(costs.total_cost > 0);
});

test('a run killed while the person thinks resumes without asking again what was answered', async () => {
  const dir = scenarioWithPerson('killed');
  const out = join(tmp, 'killed-run');
  const first = cliOnTerminal(['scenario', dir, '--output', out, '--base-url', srv.url]);
  await answer(first, 1, ['**ACTION:**', 'Turn one, from the first session.']);
  await first.waitFor('=== council, turn 2: decision');
  first.kill();
  await first.exited;
  assert.equal(mine(out).length, 1);
  const second = cliOnTerminal(['scenario', '--resume', out, '--base-url', srv.url]);
  await answer(second, 2, ['**ACTION:**', 'Turn two, after the resume.']);
  await answer(second, 3, ['**ACTION:**', 'Turn three.']);
  assert.equal(await second.exited, 0, second.output());
  assert.doesNotMatch(second.output(), /turn 1: decision/, 'turn 1 was answered before the kill');
  assert.match(second.output(), /completed 3 turns .*[1-9]\d* replayed from the call log/);
  assert.deepEqual(mine(out).map((c) => c.reply), [
    '**ACTION:**\nTurn one, from the first session.',
    '**ACTION:**\nTurn two, after the resume.',
    '**ACTION:**\nTurn three.',
  ]);
  assert.match(readFileSync(join(out, 'council-001.md'), 'utf8'), /Turn one, from the first session\./);
});

test('--editor writes every reply in $EDITOR; --human seats a person by the actor\'s name', async () => {
  const dir = join(tmp, 'plain');
  cpSync(join(ROOT, 'scenarios', 'quick-negotiation'), dir, { recursive: true });
  const out = join(tmp, 'editor-run');
  const editor = join(tmp, 'every.sh');
  writeFileSync(editor, `#!/bin/sh\n{ printf '**ACTION:**\\nWritten in the editor.\\n'; cat "$1"; } > "$1.new" && mv "$1.new" "$1"\n`);
  chmodSync(editor, 0o755);
  const term = cliOnTerminal(['scenario', dir, '--output', out, '--human', 'Swiftride Mobility Inc.', '--editor', '--turns', '2'], { env: { EDITOR: editor } });
  assert.equal(await term.exited, 0, term.output());
  assert.match(term.output(), /=== swiftride, turn 2: decision/);
  assert.deepEqual(mine(out).map((c) => [c.key, c.reply]), [
    ['t1/decision/swiftride', '**ACTION:**\nWritten in the editor.'],
    ['t2/decision/swiftride', '**ACTION:**\nWritten in the editor.'],
  ]);
  // Kept for a resume: the run's spec says who plays the seat.
  const state = JSON.parse(readFileSync(join(out, 'scenario-state.json'), 'utf8'));
  assert.equal(state.spec.modifications.actor_models.swiftride, 'human');
});

test('off a terminal, a run with a person\'s seat is refused at once, saying why', async () => {
  const dir = scenarioWithPerson('piped');
  const out = join(tmp, 'piped-run');
  const r = await runCli(['scenario', dir, '--output', out, '--base-url', srv.url]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /a person plays `council` \(human: true in .*actors\/council\.yaml, line 3\) and there is nobody to ask here: the CLI asks on a terminal/);
  assert.equal(existsSync(join(out, 'llm-calls.jsonl')), false, 'nothing ran');
  const unknown = await runCli(['scenario', join(ROOT, 'scenarios', 'quick-negotiation'), '--human', 'mayor']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--human `mayor`: the scenario has no such actor; its actors are council \(Kestrel Bay Transport Committee\), swiftride \(Swiftride Mobility Inc\.\)/);
});

test('a batch of parallel runs refuses a person\'s seat at the actor file\'s human: line', async () => {
  const dir = scenarioWithPerson('batch');
  const config = join(tmp, 'batch.yaml');
  writeFileSync(config, `experiment_name: people\nbase_scenario: ${dir}\nruns_per_variation: 2\nmax_parallel: 2\noutput_dir: ${join(tmp, 'batch-out')}\n`);
  const r = await runCli(['run', config, '--base-url', srv.url]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /actors\/council\.yaml:3/);
  assert.match(r.stderr, /actor `council` is played by a person, and this batch runs up to 2 runs at once \(`max_parallel: 2` in /);
  assert.match(r.stderr, /`max_parallel: 1` in /);
  // One run at a time is allowed, but only where someone can be asked.
  writeFileSync(config, readFileSync(config, 'utf8').replace('max_parallel: 2', 'max_parallel: 1'));
  const piped = await runCli(['run', config, '--base-url', srv.url]);
  assert.equal(piped.code, 2, piped.stderr);
  assert.match(piped.stderr, /a person plays `council` .* and there is nobody to ask here/);
  assert.equal(existsSync(join(tmp, 'batch-out', 'runs')), false, 'nothing ran');
});

test('a batch with max_parallel: 1 asks the person on the terminal, run after run', async () => {
  const dir = scenarioWithPerson('serial');
  const config = join(tmp, 'serial.yaml');
  const out = join(tmp, 'serial-out');
  writeFileSync(config, `experiment_name: people\nbase_scenario: ${dir}\nruns_per_variation: 2\nmax_parallel: 1\nbudget_limit: 1.0\noutput_dir: ${out}\n`);
  const term = cliOnTerminal(['run', config, '--base-url', srv.url]);
  for (let run = 1; run <= 2; run++) {
    for (let turn = 1; turn <= 3; turn++) await answer(term, turn, ['**ACTION:**', `Run ${run}, turn ${turn}.`]);
  }
  assert.equal(await term.exited, 0, term.output());
  for (const run of ['var-001-run-001', 'var-001-run-002']) {
    assert.deepEqual(mine(join(out, 'runs', run)).map((c) => c.cost_nanos), [0, 0, 0]);
  }
});
