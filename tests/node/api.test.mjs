// The library API from Node, as `import ... from 'scenario-lab'` gives it (node/index.js): the
// wasm initialised with initSync, the filesystem Storage, and errors that carry a stable `kind`.
// Needs pkg/ built. Paths inside the example configs are relative to the project root, so the
// tests run from there.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
process.chdir(ROOT);

const api = await import('../../node/index.js');
const { validate, loadBatchConfig, loadScenario, planBatch, renderPlan, version, nodeStorage } = api;

const QUICK = 'experiments/quick-start/batch-config.yaml';
const SCENARIO = 'scenarios/quick-negotiation';

let tmp;
let badConfig;

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'scenario-lab-api-'));
  badConfig = join(tmp, 'batch-config.yaml');
  writeFileSync(
    badConfig,
    [
      'experiment_name: "bad"',
      `base_scenario: "${join(ROOT, SCENARIO)}"`,
      'runs_per_variation: 0',
      'budget_limt: 5',
      '',
    ].join('\n'),
  );
});

after(() => rmSync(tmp, { recursive: true, force: true }));

test('the entry exports the documented API', () => {
  for (const name of ['validate', 'loadBatchConfig', 'loadScenario', 'planBatch', 'renderPlan', 'version', 'nodeStorage']) {
    assert.equal(typeof api[name], 'function', name);
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.equal(version(), pkg.version);
});

test('validate: a scenario folder and a batch config are valid', async () => {
  const s = await validate(SCENARIO, nodeStorage());
  assert.equal(s.ok, true, s.errors.map((d) => d.text).join('\n'));
  assert.equal(s.kind, 'scenario');
  assert.equal(s.path, SCENARIO);
  assert.deepEqual(s.errors, []);

  const b = await validate(QUICK, nodeStorage());
  assert.equal(b.ok, true, b.errors.map((d) => d.text).join('\n'));
  assert.equal(b.kind, 'batch');
});

test('validate never throws for bad input: it reports every error', async () => {
  const r = await validate(badConfig, nodeStorage());
  assert.equal(r.ok, false);
  assert.equal(r.kind, 'batch');
  const typo = r.errors.find((d) => d.key === 'budget_limt');
  assert.ok(typo, `no error for budget_limt in ${JSON.stringify(r.errors, null, 1)}`);
  assert.equal(typo.severity, 'error');
  assert.equal(typo.line, 4);
  assert.equal(typo.column, 1);
  assert.match(typo.suggestion ?? '', /\bbudget_limit\b/);
  assert.ok(typo.file.endsWith('batch-config.yaml'), typo.file);
  assert.equal(typeof typo.text, 'string');
  assert.ok(r.errors.some((d) => /runs_per_variation/.test(d.key ?? '') || /runs_per_variation/.test(d.text)));

  const missing = await validate(join(tmp, 'nothing-here'), nodeStorage());
  assert.equal(missing.ok, false);
  assert.ok(missing.errors.length > 0);
});

test('loadScenario and loadBatchConfig return the loaded values', async () => {
  const scenario = await loadScenario(SCENARIO, nodeStorage());
  assert.equal(typeof scenario, 'object');
  assert.ok(scenario !== null);
  const config = await loadBatchConfig(QUICK, nodeStorage());
  assert.equal(typeof config, 'object');
  assert.ok(config !== null);
});

test('bad input throws an Error with kind config_invalid and every diagnostic', async () => {
  for (const call of [
    () => loadBatchConfig(badConfig, nodeStorage()),
    () => planBatch(badConfig, nodeStorage()),
  ]) {
    await assert.rejects(call, (e) => {
      assert.ok(e instanceof Error, 'an Error');
      assert.equal(e.kind, 'config_invalid');
      assert.ok(Array.isArray(e.diagnostics) && e.diagnostics.length >= 2, 'both problems reported');
      assert.ok(e.diagnostics.some((d) => d.key === 'budget_limt' && /\bbudget_limit\b/.test(d.suggestion ?? '')));
      assert.ok(e.message.length > 0);
      return true;
    });
  }
  await assert.rejects(() => loadScenario(join(tmp, 'nothing-here'), nodeStorage()), (e) => e.kind === 'config_invalid');
});

test('a failing storage surfaces as kind storage', async () => {
  const broken = {
    read: async () => { throw new Error('disk on fire'); },
    write: async () => {},
    append: async () => {},
    list: async () => { throw new Error('disk on fire'); },
    exists: async () => { throw new Error('disk on fire'); },
    remove: async () => {},
  };
  await assert.rejects(() => loadBatchConfig(QUICK, broken), (e) => {
    assert.equal(e.kind, 'storage');
    assert.match(e.message, /disk on fire/);
    return true;
  });
});

test('planBatch and renderPlan: the quick-start plan', async () => {
  const plan = await planBatch(QUICK, nodeStorage());
  assert.equal(typeof plan, 'object');
  assert.doesNotThrow(() => JSON.stringify(plan));
  const text = renderPlan(plan);
  assert.equal(typeof text, 'string');
  assert.match(text, /quick-start/);
  assert.doesNotMatch(renderPlan(plan, { color: false }), /\x1b\[/);
  assert.match(renderPlan(plan, { color: true }), /\x1b\[/);

  // An OpenRouter model list (what the CLI fetches) is accepted.
  const models = JSON.stringify({ data: [{ id: 'openai/gpt-4o-mini', pricing: { prompt: '0.00000015', completion: '0.0000006' } }] });
  const withPrices = await planBatch(QUICK, nodeStorage(), { openrouterModels: models });
  assert.equal(typeof withPrices, 'object');
});

test('nodeStorage: atomic write with parents, append, list, read, exists', async () => {
  const s = nodeStorage({ root: tmp });
  // `read` answers the file's bytes (the core decodes them, refusing bytes that are not UTF-8).
  const text = async (path) => {
    const bytes = await s.read(path);
    return bytes === null ? null : new TextDecoder().decode(bytes);
  };
  assert.equal(await text('a/b/c.txt'), null);
  assert.equal(await s.list('a'), null);
  assert.equal(await s.exists('a'), false);
  await s.write('a/b/c.txt', 'one');
  await s.write('a/b/c.txt', 'two');
  assert.equal(await text('a/b/c.txt'), 'two');
  assert.deepEqual(readdirSync(join(tmp, 'a', 'b')), ['c.txt'], 'no temporary files left behind');
  await s.append('a/log.txt', 'x\n');
  await s.append('a/log.txt', 'y\n');
  assert.equal(await text('a/log.txt'), 'x\ny\n');
  mkdirSync(join(tmp, 'a', 'Z'));
  assert.deepEqual(await s.list('a'), ['Z', 'b', 'log.txt']);
  assert.equal(await text('a/b'), null, 'a directory reads as missing');
  assert.equal(await s.exists('a/b'), true);
  assert.equal(await s.exists(join(tmp, 'a', 'log.txt')), true, 'absolute paths');
  // Relative paths default to the working directory.
  assert.equal(await nodeStorage().exists('package.json'), true);
});
