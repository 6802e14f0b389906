// tests/node/run-cli.mjs: the CLI (`node node/cli.js`) as a child process, for the Node tests.
// It runs without blocking the test's process, so a fake server started by the test answers
// it. The environment is the test's, without a key or a default server unless `env` sets them,
// and without colour.

import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CLI = join(ROOT, 'node', 'cli.js');

/** Resolves to `{ code, stdout, stderr, child }` when the CLI exits. */
export function runCli(args, { cwd = ROOT, env = {} } = {}) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', OPENROUTER_API_KEY: '', SCENARIO_LAB_BASE_URL: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stdout, stderr, child }));
  });
}
