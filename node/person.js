// node/person.js owns the CLI's side of a seat a person plays (`human: true` in an actor file,
// `--human ACTOR`): the core asks through `askPerson(prompt)`, and this shows the person, on the
// terminal (stderr, so that --json's stdout stays clean), exactly the messages a model in the
// seat would get, then reads their reply: typed lines ended by a line holding only `.`, or
// written in $VISUAL / $EDITOR (`:e` as the first line, or --editor for every reply). The core
// reads the reply with the parser it uses for models, and logs it as model `human` at $0.
// Questions are asked one at a time: two seats, or the runs of a batch, may ask at once.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { colorFor, err, paint } from './output.js';

/** The line that ends a typed reply. */
export const END = '.';
/** The first line that opens the editor instead. */
export const EDIT = ':e';
/** In the editor's file, this line and everything after it are not part of the reply. */
export const CUT = '--- Write your reply above this line. This line and everything below it are ignored. ---';

/**
 * The host's `askPerson`, or undefined when no one can be asked: input and error output must both
 * be a terminal (elsewhere the core refuses a run with a person's seat, saying so, rather than
 * hang on a pipe). `editor`: write every reply in $EDITOR.
 */
export function terminalPerson({ editor = false, onAsk = () => {} } = {}) {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  let queue = Promise.resolve();
  return (prompt) => {
    const asked = queue.then(() => {
      onAsk();
      return ask(prompt, editor);
    });
    queue = asked.catch(() => {});
    return asked;
  };
}

/** What the person reads: which call it is, then each message as a model gets it. */
export function promptText(prompt) {
  const who = prompt.actor ?? 'your seat';
  const what = prompt.role === 'actor' ? 'decision' : prompt.role;
  const lines = [`=== ${who}, turn ${prompt.turn}: ${what} (${prompt.key}) ===`];
  for (const m of prompt.messages) {
    lines.push('', `--- ${m.role} ---`, m.content.trimEnd());
  }
  return lines.join('\n');
}

async function ask(prompt, editor) {
  const color = colorFor(process.stderr, false);
  err('');
  err(promptText(prompt));
  err('');
  const who = prompt.actor ?? 'this seat';
  for (;;) {
    let reply;
    if (editor) {
      reply = inEditor(prompt);
    } else {
      err(paint('bold', `Your reply as ${who}: type it, then a line with only '${END}' to send it ('${EDIT}' on the first line writes it in $EDITOR).`, process.stderr, color));
      reply = await typedReply();
      if (reply === EDIT) {
        try {
          reply = inEditor(prompt);
        } catch (e) {
          err(`scenario-lab: ${e.message}; type the reply instead`);
          continue;
        }
      }
    }
    if (reply.trim()) return reply;
    err(`scenario-lab: the reply is empty; ${editor ? 'write it in the editor' : 'type it'} (Ctrl+C stops the run; --resume goes on from here)`);
  }
}

/**
 * Lines up to one holding only END (or the end of input); EDIT alone on the first line asks
 * for the editor. Ctrl+C stops as it does anywhere else: the process gets its SIGINT.
 */
function typedReply() {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, prompt: '> ' });
    const lines = [];
    let done = false;
    const finish = (f) => {
      if (done) return;
      done = true;
      rl.close();
      f();
    };
    rl.on('line', (line) => {
      if (lines.length === 0 && line.trim() === EDIT) return finish(() => resolve(EDIT));
      if (line.trim() === END) return finish(() => resolve(lines.join('\n')));
      lines.push(line);
      rl.prompt();
    });
    rl.on('close', () => finish(() => (lines.length ? resolve(lines.join('\n')) : reject(new Error('the terminal input closed before a reply')))));
    rl.on('SIGINT', () => {
      finish(() => reject(new Error('stopped with Ctrl+C')));
      process.kill(process.pid, 'SIGINT');
    });
    rl.prompt();
  });
}

/** The editor command: $VISUAL, else $EDITOR; undefined when neither is set. */
export function editorCommand() {
  return process.env.VISUAL || process.env.EDITOR || undefined;
}

/** The reply written in $VISUAL or $EDITOR, in a file that shows the prompt below the cut. */
function inEditor(prompt) {
  const editor = editorCommand();
  if (!editor) throw new Error('no editor: set $EDITOR (or $VISUAL) to write a reply in one');
  const dir = mkdtempSync(join(tmpdir(), 'scenario-lab-reply-'));
  const file = join(dir, `${(prompt.actor ?? 'reply').replace(/[^\w-]/g, '_')}-turn-${prompt.turn}.md`);
  try {
    writeFileSync(file, `\n\n${CUT}\n${promptText(prompt)}\n`);
    // Through a shell, as git does: $EDITOR may carry arguments (`code --wait`).
    const r = spawnSync(`${editor} "${file}"`, { shell: true, stdio: 'inherit' });
    if (r.error || r.status !== 0) {
      throw new Error(`the editor \`${editor}\` failed${r.error ? ` (${r.error.message})` : ` (exit ${r.status})`}`);
    }
    const text = readFileSync(file, 'utf8');
    const cut = text.indexOf(CUT);
    return (cut === -1 ? text : text.slice(0, cut)).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
