// tests/node/pty.mjs: a command run on a pseudo-terminal, for tests of what the CLI does on a
// terminal (questions, confirmations). Node has no pty of its own; util-linux's `script` (in
// Debian's essential bsdutils package, so on every Debian machine, CI included) gives the
// command one: `script -qfec CMD /dev/null` runs CMD with stdin, stdout and stderr on a pty and
// exits with its status. What the command writes comes back through `script`'s stdout, with the
// terminal's echo of what was typed and readline's cursor codes (stripped by `output()`).
//
//   const term = onTerminal(process.execPath, [CLI, 'init'], { cwd });
//   await term.waitFor('Title');
//   term.type('My scenario');
//   const code = await term.exited;

import { spawn } from 'node:child_process';

/** A command line for `sh -c`, every word quoted. */
const shell = (words) => words.map((w) => `'${String(w).replaceAll("'", "'\\''")}'`).join(' ');

/** ANSI escape sequences (colour, cursor moves) and carriage returns out of terminal text. */
export function plain(text) {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

/**
 * Runs `command args` on a pseudo-terminal. Returns `{ output, waitFor, type, exited, kill }`:
 * `output()` is everything written so far (plain); `waitFor(text, ms)` resolves once the output
 * after the last `waitFor` match holds `text` (a string or RegExp), and rejects with the output
 * after `ms`; `type(line)` sends a line as typed keys; `exited` resolves to the exit status.
 */
export function onTerminal(command, args, { cwd, env = {}, columns = 100 } = {}) {
  const child = spawn('script', ['-qfec', `stty cols ${columns} 2>/dev/null; exec ${shell([command, ...args])}`, '/dev/null'], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', OPENROUTER_API_KEY: '', SCENARIO_LAB_BASE_URL: '', TERM: 'xterm', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let raw = '';
  let seen = 0; // where the next waitFor starts looking
  const waiters = new Set();
  const check = () => {
    for (const w of waiters) w();
  };
  child.stdout.on('data', (d) => {
    raw += d;
    check();
  });
  child.stderr.on('data', (d) => {
    raw += d;
    check();
  });
  const exited = new Promise((done) => child.on('close', (code) => {
    check();
    done(code);
  }));
  let closed = false;
  exited.then(() => {
    closed = true;
    check();
  });
  return {
    output: () => plain(raw),
    exited,
    kill: () => child.kill(),
    type(line) {
      child.stdin.write(`${line}\r`);
    },
    waitFor(text, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(look);
          reject(new Error(`waited ${ms} ms for ${text} on the terminal; it shows:\n${plain(raw).slice(seen)}`));
        }, ms);
        function look() {
          const rest = plain(raw).slice(seen);
          const at = typeof text === 'string' ? rest.indexOf(text) : rest.search(text);
          if (at >= 0) {
            const length = typeof text === 'string' ? text.length : rest.slice(at).match(text)[0].length;
            seen += at + length;
            clearTimeout(timer);
            waiters.delete(look);
            resolve(rest.slice(0, at + length));
          } else if (closed) {
            clearTimeout(timer);
            waiters.delete(look);
            reject(new Error(`the command ended before ${text} showed on the terminal; it shows:\n${rest}`));
          }
        }
        waiters.add(look);
        look();
      });
    },
  };
}
