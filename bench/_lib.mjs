// bench/_lib.mjs: shared helpers for the batch-runner benchmarks (Node built-ins only).
// Writes a batch config into a temp dir, runs the real CLI (`node node/cli.js run ... --json`)
// as a child process against the fake LLM server, and times it from the JSON events. The server
// runs in a process of its own (`startFakeLlmProcess`), so that answering does not share the
// benchmark's thread.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const CLI = join(ROOT, 'node', 'cli.js');
export const SCENARIO = join(ROOT, 'scenarios', 'quick-negotiation');
export { startFakeLlm } from '../tests/fake-llm/server.mjs';

/**
 * Starts `node tests/fake-llm/server.mjs` in its own process with the given CLI flags. Resolves
 * to { url, stats(), reset(), close() }, stats and reset going through the server's control API.
 */
export function startFakeLlmProcess(flags = []) {
  const child = spawn(process.execPath, [join(ROOT, 'tests', 'fake-llm', 'server.mjs'), '--port', '0', ...flags], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolvePromise, reject) => {
    let out = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the fake server exited with ${code} before listening`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const { url } = JSON.parse(out.slice(0, nl));
      child.removeAllListeners('exit');
      const control = new URL('/', url).href;
      resolvePromise({
        url,
        stats: async () => (await fetch(`${control}_stats`)).json(),
        reset: async () => { await fetch(`${control}_reset`, { method: 'POST' }); },
        close: () => new Promise((done) => { child.once('exit', done); child.kill('SIGTERM'); }),
      });
    });
  });
}

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), `scenario-lab-bench-${prefix}-`));
}

export function cleanup(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/** Writes a batch config: `runs` runs of the 2-actor scenario, both actors on the fake server. */
export function writeConfig(dir, name, { runs, maxParallel, turns = 3, saveIndividualRuns = true, outputDir = join(dir, `out-${name}`) }) {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, `experiment_name: "${name}"
base_scenario: ${JSON.stringify(SCENARIO)}
runs_per_variation: ${runs}
max_parallel: ${maxParallel}
timeout_per_run: 3600
output_dir: ${JSON.stringify(outputDir)}
save_individual_runs: ${saveIndividualRuns}
aggregate_metrics: false
variations:
  - type: actor_model
    actor: council
    values: [test/a]
  - type: actor_model
    actor: swiftride
    values: [test/a]
  - type: scenario_parameter
    parameter: turns
    values: [${turns}]
`);
  return path;
}

/**
 * Runs `node node/cli.js run <config> --json --no-progress --base-url <url>` (optionally under
 * `/usr/bin/time -v`). Resolves to { code, wallS, batchS, summary, events, maxRssKb, stderr }:
 * wallS is spawn to exit; batchS is the first JSON event (batch_started) to the last (summary).
 */
export function runCli(configPath, baseUrl, { timeV = false } = {}) {
  const args = [CLI, 'run', configPath, '--json', '--no-progress', '--base-url', baseUrl];
  const cmd = timeV ? '/usr/bin/time' : process.execPath;
  const argv = timeV ? ['-v', process.execPath, ...args] : args;
  const env = { ...process.env, NO_COLOR: '1' };
  delete env.OPENROUTER_API_KEY; // never fetch real prices or send to a real endpoint
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    let firstEvent = null;
    let lastEvent = null;
    let buf = '';
    let stderr = '';
    const events = {};
    let summary = null;
    const child = spawn(cmd, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      const now = performance.now();
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        let e;
        try { e = JSON.parse(line); } catch { continue; }
        if (firstEvent === null) firstEvent = now;
        lastEvent = now;
        events[e.type] = (events[e.type] ?? 0) + 1;
        if (e.type === 'summary') summary = e.data;
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallS = (performance.now() - t0) / 1000;
      const m = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(stderr);
      resolvePromise({
        code, wallS, batchS: firstEvent === null ? NaN : (lastEvent - firstEvent) / 1000,
        summary, events, maxRssKb: m ? Number(m[1]) : null, stderr,
      });
    });
  });
}

export const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
export const verdict = (ok) => (ok ? 'ok' : 'MISSED');
