// The batch guide (docs/batch-guide.md) is run as written: every YAML block that names its
// file is written there, and every `npx scenario-lab` line is run in order, in a scratch copy
// of the project, against the fake OpenAI-compatible server. A line whose comment says
// "exits N" must exit N; every other line must exit 0. A JavaScript block that names its file
// (`// <name>.mjs`) is run with node, where `import ... from 'scenario-lab'` finds this package.
// So the guide cannot drift from the tool.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
  mkdirSync(join(work, 'node_modules'));
  symlinkSync(ROOT, join(work, 'node_modules', 'scenario-lab'));
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

/** Runs the CLI (or a script) without blocking this process (the fake server answers from here). */
function cli(args, cwd, env, script = join(ROOT, 'node', 'cli.js')) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, env });
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
  let scripts = 0;
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
        // Words, with "double quotes" grouping, as a shell reads these lines.
        const args = command.replace(/^npx scenario-lab /, '').match(/"[^"]*"|\S+/g).map((w) => w.replace(/^"(.*)"$/, '$1'));
        const r = await cli(args, work, { ...process.env, NO_COLOR: '1', OPENROUTER_API_KEY: '', SCENARIO_LAB_BASE_URL: srv.url });
        assert.equal(r.status, expected, `\`${command}\` exited ${r.status}, expected ${expected}:\n${r.stdout}\n${r.stderr}`);
        commands++;
      }
    } else if (b.lang === 'js') {
      const path = /^\/\/ (\S+\.mjs)$/.exec(b.text.split('\n')[0])?.[1];
      assert.ok(path, `a JavaScript block must start with '// <its file>.mjs':\n${b.text}`);
      writeFileSync(join(work, path), b.text);
      const r = await cli([], work, { ...process.env, NO_COLOR: '1' }, join(work, path));
      assert.equal(r.status, 0, `${path} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /Success rate: \d/);
      scripts++;
    }
  }
  assert.ok(scripts >= 1, 'the guide\'s JavaScript example was run');
  assert.ok(configs >= 3 && commands >= 10, `${configs} configs and ${commands} commands: the guide was not read`);
});
