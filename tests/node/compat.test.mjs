// The compat suite: `scenario-lab validate` on every scenario folder and batch config written for
// the original Python Scenario Lab, kept in ../shared/compat/ (next to the project, not in it:
// their text is not ours). CI and the team's machines have that folder; a user's fresh clone does
// not, and then this suite says plainly that it did not run.
//
// Batch configs there use paths relative to the compat folder (as they were relative to the
// original repository's root), so they are validated with that folder as the working directory.
// A batch config whose base_scenario does not exist must fail (exit 2) naming the path it looked
// for; everything else must be valid.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const COMPAT = resolve(ROOT, '..', 'shared', 'compat');
const CLI = join(ROOT, 'node', 'cli.js');

function validate(path, cwd) {
  const env = { ...process.env };
  delete env.OPENROUTER_API_KEY;
  return spawnSync(process.execPath, [CLI, 'validate', path], { cwd, encoding: 'utf8', env });
}

function yamlFilesUnder(dir) {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((p) => /\.ya?ml$/.test(p))
    .map((p) => join(dir, p))
    .sort();
}

if (!existsSync(COMPAT)) {
  const msg = 'compat suite NOT RUN: ../shared/compat not found';
  process.stderr.write(`${msg}\n`);
  test('compat suite', (t) => t.skip(msg));
} else {
  const scenarios = readdirSync(join(COMPAT, 'scenarios'))
    .map((name) => join(COMPAT, 'scenarios', name))
    .filter((p) => statSync(p).isDirectory());
  const batchConfigs = yamlFilesUnder(join(COMPAT, 'experiments'));

  test('the compat folder has inputs', () => {
    assert.ok(scenarios.length > 0, 'no scenario folders');
    assert.ok(batchConfigs.length > 0, 'no batch configs');
  });

  for (const dir of scenarios) {
    test(`scenario ${relative(COMPAT, dir)} validates`, () => {
      const r = validate(dir, ROOT);
      assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
    });
  }

  for (const file of batchConfigs) {
    test(`batch config ${relative(COMPAT, file)} validates`, () => {
      const r = validate(file, COMPAT);
      const base = /^base_scenario:\s*["']?([^"'\n#]+?)["']?\s*(#.*)?$/m.exec(readFileSync(file, 'utf8'))?.[1];
      if (base && !existsSync(resolve(COMPAT, base)) && !existsSync(resolve(file, '..', base))) {
        assert.equal(r.status, 2, `missing base_scenario ${base} should be an error:\n${r.stderr}`);
        assert.ok(r.stderr.includes(base), `the error should name ${base}:\n${r.stderr}`);
      } else {
        assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
      }
    });
  }
}
