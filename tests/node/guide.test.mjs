// The batch guide (docs/batch-guide.md) is run as written: every YAML block that names its
// file is written there, and every `npx scenario-lab` line is run in order, in a scratch copy
// of the project, against the fake OpenAI-compatible server. A line whose comment says
// "exits N" must exit N; every other line must exit 0. So the guide cannot drift from the tool.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeLlm } from '../fake-llm/server.mjs';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const GUIDE = join(ROOT, 'docs', 'batch-guide.md');

let srv;
let work;

before(async () => {
  srv = await startFakeLlm({ port: 0, latencyMs: 1, costPerCall: 0.0001 });
  work = mkdtempSync(join(tmpdir(), 'scenario-lab-guide-'));
  cpSync(join(ROOT, 'scenarios'), join(work, 'scenarios'), { recursive: true });
  mkdirSync(join(work, 'experiments', 'quick-start'), { recursive: true });
  cpSync(join(ROOT, 'experiments', 'quick-start', 'batch-config.yaml'), join(work, 'experiments', 'quick-start', 'batch-config.yaml'));
});

after(async () => {
  await srv?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The guide's fenced blocks, in order: {lang, text}. */
function blocks(markdown) {
  const out = [];
  const re = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m; (m = re.exec(markdown)); ) out.push({ lang: m[1], text: m[2] });
  return out;
}

/** Runs the CLI without blocking this process (the fake server answers from here). */
function cli(args, cwd, env) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'node', 'cli.js'), ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

test('every command and config in the batch guide works as written', async () => {
  const found = blocks(readFileSync(GUIDE, 'utf8'));
  let configs = 0;
  let commands = 0;
  for (const b of found) {
    if (b.lang === 'yaml') {
      const first = b.text.split('\n')[0];
      const path = /^# (\S+\.yaml)$/.exec(first)?.[1];
      assert.ok(path, `a YAML block must start with '# <its path>':\n${b.text}`);
      mkdirSync(dirname(join(work, path)), { recursive: true });
      writeFileSync(join(work, path), b.text);
      configs++;
    } else if (b.lang === 'sh') {
      for (const line of b.text.split('\n').filter((l) => l.startsWith('npx scenario-lab '))) {
        const [command, comment = ''] = line.split(/\s+#\s+/);
        const expected = Number(/exits (\d)/.exec(comment)?.[1] ?? 0);
        const args = command.replace(/^npx scenario-lab /, '').split(/\s+/);
        const r = await cli(args, work, { ...process.env, NO_COLOR: '1', OPENROUTER_API_KEY: '', SCENARIO_LAB_BASE_URL: srv.url });
        assert.equal(r.status, expected, `\`${command}\` exited ${r.status}, expected ${expected}:\n${r.stdout}\n${r.stderr}`);
        commands++;
      }
    }
  }
  assert.ok(configs >= 3 && commands >= 10, `${configs} configs and ${commands} commands: the guide was not read`);
});
