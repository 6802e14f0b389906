// The CLI's flag table (node/flags.js) drives both the parser and the help (node/help.js): a
// flag a command accepts is in its help, a flag in its help is accepted, and no command has two
// meanings for one flag. No wasm needed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMAND_NAMES, ENVIRONMENT, FLAGS, parse, parseOptions, rowsFor, UsageError } from '../../node/flags.js';
import { HELP_TOPICS, helpText } from '../../node/help.js';

const flagsIn = (text) => new Set([...text.matchAll(/^ {4}(?:-\w, )?--([a-z-]+)/gm)].map((m) => m[1]));

test('each command has at most one row per flag, and its help lists exactly the flags it takes', () => {
  for (const command of ['main', ...HELP_TOPICS]) {
    const names = rowsFor(FLAGS, command).map((f) => f.name);
    assert.equal(new Set(names).size, names.length, `${command}: ${names.join(' ')}`);
    assert.deepEqual(flagsIn(helpText(command)), new Set(Object.keys(parseOptions(command))), command);
  }
});

test('every command and environment variable is documented where it applies', () => {
  const main = helpText('main');
  for (const c of COMMAND_NAMES) assert.match(main, new RegExp(`^ {4}${c} `, 'm'), c);
  for (const e of ENVIRONMENT) {
    for (const c of e.commands) assert.match(helpText(c), new RegExp(`^ {4}${e.name} `, 'm'), `${e.name} in ${c}`);
  }
  for (const t of HELP_TOPICS) {
    const text = helpText(t);
    assert.match(text, /^USAGE:$/m, t);
    assert.match(text, /^EXIT STATUS:$/m, t);
    assert.ok(!text.includes('{{'), `${t}: a placeholder was left`);
    for (const line of text.split('\n')) assert.ok(line.length <= 100 || /^ {4}scenario-lab /.test(line), `${t}: too long: ${line}`);
  }
});

test('defaults are shown: (off) for a switch, (default: ...) for a value', () => {
  assert.match(helpText('run'), /--dry-run\s+plan only[\s\S]*?\(off\)/);
  assert.match(helpText('serve'), /--port N\s+the port; 0 picks a free one \(default: 8080\)/);
  assert.match(helpText('scenario'), /--resume DIR\s+continue the run in DIR/);
  assert.match(helpText('run'), /--resume\s+continue the batch in its output_dir/);
});

test('the parser takes what the table says', () => {
  assert.deepEqual(parse(['scenario', 's', '--model-override', 'a=b', '--model-override', 'c=d']).values['model-override'], ['a=b', 'c=d']);
  assert.equal(parse(['run', 'c.yaml', '--resume']).values.resume, true);
  assert.equal(parse(['scenario', '--resume', 'out/run-001']).values.resume, 'out/run-001');
  assert.equal(parse(['-h']).values.help, true);
  assert.equal(parse(['merge', '--version']).values.version, true);
  assert.throws(() => parse(['run', 'c.yaml', '--port', '1']), (e) => e instanceof UsageError && /unknown option '--port'/.test(e.message));
  assert.throws(() => parse(['run', 'c.yaml', '--resume=x']), /takes no value/);
  assert.throws(() => parse(['analyze', 'd', '--success']), /needs a value/);
  assert.throws(() => parse(['valdate']), (e) => e.guess?.candidates.includes('validate'));
});
