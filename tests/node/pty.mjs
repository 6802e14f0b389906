// tests/node/pty.mjs: drives the real CLI on a pseudo-terminal, as a person at a terminal would.
// Node has no pty of its own; util-linux's `script` runs the command on one and relays our pipe
// to it. Answer only after the question is on the screen (`waitFor`), as a person would.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = fileURLToPath(new URL('../../node/cli.js', import.meta.url));

/** A word for a POSIX shell. */
const quote = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;

/**
 * `node node/cli.js ...args` on a pseudo-terminal (stdin, stdout and stderr all the terminal).
 * Returns what was shown so far (`screen()`, the terminal's output, echo included), `waitFor`,
 * `type` (a line, Enter included), `kill` and `exit` (a promise of the exit code).
 */
export function onTerminal(args, { cwd = ROOT, env = {} } = {}) {
  // `exec`: the CLI is script's own child, for `kill`.
  const command = `exec ${['node', CLI, ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', TERM: 'xterm', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  const waiters = new Set();
  const check = () => {
    for (const w of waiters) {
      const at = screen.indexOf(w.text, w.from);
      if (at !== -1) {
        waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(at + w.text.length);
      }
    }
  };
  const take = (chunk) => {
    screen += chunk.toString('utf8');
    check();
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exit = new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  exit.then(() => {
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(new Error(`the CLI exited before showing ${JSON.stringify(w.text)}; the screen:\n${screen}`));
    }
    waiters.clear();
  });
  let from = 0;
  return {
    screen: () => screen,
    /** Resolves once `text` is on the screen after what the last waitFor found. */
    waitFor(text, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const w = { text, from, resolve: (end) => { from = end; resolve(); }, reject };
        w.timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`${JSON.stringify(text)} did not appear within ${timeoutMs} ms; the screen:\n${screen}`));
        }, timeoutMs);
        waiters.add(w);
        check();
      });
    },
    /** Types `line` and Enter. */
    type(line) {
      child.stdin.write(`${line}\r`);
    },
    /** Sends `signal` to the CLI itself (not to `script`), as a kill from another terminal would. */
    kill(signal = 'SIGKILL') {
      spawn('pkill', [`-${signal.replace(/^SIG/, '')}`, '-P', String(child.pid)]);
    },
    exit,
  };
}
