// The page's "New scenario" form (issue 16), in headless Chromium over the real wasm build: a
// person starts from a template, changes the title, an actor, a metric and the runs, creates
// the project, and it is written into the browser's storage (read back from OPFS), opens as
// the current config, validates, plans and runs on the built-in model. Answers with problems
// are listed by the core, each naming its answer, and nothing is written. Needs pkg/ and
// www/vendor built (`npm run build`).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, ready, shot, readOpfs, opfsFiles, batchEnded } from './helpers.mjs';

let env;

before(async () => {
  env = await setup();
});

after(async () => {
  await env?.close();
});

test('a scenario made in the form is stored, validates, plans and runs', async () => {
  const { page, errors } = await openPage(env);
  await ready(page);
  await page.click('#new-scenario');
  await page.waitForSelector('#new-scenario-dialog[open] #new-title');
  // The models are the core's list, with prices.
  const models = await page.$$eval('#new-actors .row.actor:first-child .model option', (els) => els.map((e) => e.textContent));
  assert.equal(models[0], 'builtin/simulator (free, offline)');
  assert.ok(models.includes('openai/gpt-5-mini ($0.25 / $2 per M tokens)'), models.join('\n'));

  await page.selectOption('#new-template', 'bilateral-negotiation');
  await page.waitForFunction(() => document.querySelector('#new-title').value === 'Supplier Contract Renewal');
  await page.fill('#new-title', 'Harbour Lease');
  await page.fill('#new-actors .row.actor:nth-child(2) .name', 'Harbour Board');
  await page.fill('#new-actors .row.actor:nth-child(2) .goals', 'Raise the rent; Keep the tenant');
  await page.click('#new-add-metric');
  const added = '#new-metrics .row.metric:last-child';
  await page.fill(`${added} .name`, 'stage');
  await page.fill(`${added} .question`, 'Which stage are the talks at?');
  await page.selectOption(`${added} .kind`, 'categorical');
  await page.fill(`${added} .detail`, 'opening; bargaining; closing');
  await page.fill('#new-runs', '2');
  await shot(page, 'new-scenario-form');
  await page.click('#new-create');

  const config = 'experiments/harbour-lease/batch-config.yaml';
  await page.waitForFunction((c) => document.querySelector('#config-path').textContent === c, config);
  await page.waitForFunction(() => /valid/.test(document.querySelector('#validity').textContent) && !/checking/.test(document.querySelector('#validity').textContent));
  assert.match(await page.textContent('#validity'), /^✓ valid/);
  // The chooser lists the new project, selected (it is refreshed once the config is open).
  await page.waitForFunction((v) => document.querySelector('#config-select').value === v, JSON.stringify(['harbour-lease', config]));
  assert.match(await page.textContent('#alert'), /Created the project "harbour-lease"/);

  // The files, as the CLI writes them, in the browser's storage.
  const files = Object.keys(await opfsFiles(page, 'projects/harbour-lease/')).sort();
  assert.deepEqual(files, [
    'projects/harbour-lease/experiments/harbour-lease/batch-config.yaml',
    'projects/harbour-lease/scenarios/harbour-lease/actors/buyer.yaml',
    'projects/harbour-lease/scenarios/harbour-lease/actors/harbour-board.yaml',
    'projects/harbour-lease/scenarios/harbour-lease/metrics.yaml',
    'projects/harbour-lease/scenarios/harbour-lease/scenario.yaml',
  ]);
  const board = await readOpfs(page, 'projects/harbour-lease/scenarios/harbour-lease/actors/harbour-board.yaml');
  assert.match(board, /^name: "Harbour Board"$/m);
  assert.match(board, /goals:\n  - "Raise the rent"\n  - "Keep the tenant"\n/);
  const metrics = await readOpfs(page, 'projects/harbour-lease/scenarios/harbour-lease/metrics.yaml');
  assert.match(metrics, /- name: stage\n.*\n    type: categorical\n    categories: \["opening", "bargaining", "closing"\]\n/);
  assert.match(await readOpfs(page, `projects/harbour-lease/${config}`), /^runs_per_variation: 2$/m);

  await page.click('#to-plan');
  await page.waitForSelector('#plan-figures [data-fig=runs]');
  assert.equal(await page.textContent('#plan-figures [data-fig=runs] .value'), '2');
  await page.click('#plan-to-run');
  await page.waitForSelector('#start:not([hidden]):not([disabled])');
  await page.click('#start');
  assert.match(await batchEnded(page), /^Completed 2 of 2 runs · 0 failed/);
  const final = JSON.parse(await readOpfs(page, 'projects/harbour-lease/experiments/harbour-lease/runs/var-001-run-001/metrics.json')).final_metrics;
  assert.ok([0, 1, 2].includes(final.stage), JSON.stringify(final));
  assert.deepEqual(errors, []);
});

test('answers with problems are listed by the core, and nothing is written', async () => {
  const { page, errors } = await openPage(env);
  await ready(page);
  const before = await opfsFiles(page, 'projects/');
  await page.click('#new-scenario');
  await page.waitForSelector('#new-scenario-dialog[open] #new-title');
  await page.fill('#new-turns', '0');
  await page.click('#new-create');
  await page.waitForSelector('#new-errors:not([hidden])');
  const text = await page.textContent('#new-errors');
  assert.match(text, /^the answers do not make a scenario \(\d+ problems\):/);
  assert.match(text, /\n {2}title: is empty; expected the scenario's name/);
  assert.match(text, /\n {2}actors\[0\]\.name: is empty/);
  assert.match(text, /\n {2}turns: is 0; expected 1 to 1000/);
  assert.ok(await page.isVisible('#new-scenario-dialog[open]'), 'the form stays open to be corrected');
  assert.deepEqual(await opfsFiles(page, 'projects/'), before);
  await page.click('#new-cancel');
  assert.ok(!(await page.isVisible('#new-scenario-dialog[open]')));
  assert.deepEqual(errors, []);
});
