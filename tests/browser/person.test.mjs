// A person plays an actor in the page (issue 16, part 3), in headless Chromium over the real
// wasm build: a batch whose variation seats a person (`actor_model` value `human`, one run at a
// time) shows, at each of the seat's calls, a form in the Run view with exactly the prompt its
// model would get, as text, and brings the person back to the Run view; the replies typed
// there are what the run records, as model `human` at $0; an empty reply is not sent. Needs pkg/ and www/vendor built (`npm run build`).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, ready, shot, readOpfs, typeConfig, batchEnded, waitFor } from './helpers.mjs';

let env;

before(async () => {
  env = await setup();
});

after(async () => {
  await env?.close();
});

const CONFIG = `experiment_name: "person"
base_scenario: "scenarios/quick-negotiation"
runs_per_variation: 1
max_parallel: 1
variations:
  - type: actor_model
    actor: council
    values: [human]
output_dir: "experiments/person"
`;

test('the Run view asks the person in a seat with a form, and the replies are the run\'s', async () => {
  const { page, errors } = await openPage(env);
  await ready(page);
  await typeConfig(page, CONFIG);
  await waitFor(page, 'valid', () => /valid/.test(document.querySelector('#validity')?.textContent ?? ''));
  await page.click('a[data-tab=run]');
  await page.waitForSelector('#start:not([hidden]):not([disabled])');
  assert.equal(await page.isHidden('#person'), true, 'no form before anyone is asked');
  await page.click('#start');
  const replies = [];
  for (let turn = 1; turn <= 3; turn++) {
    await waitFor(page, `question-${turn}`, (t) => {
      const form = document.querySelector('#person');
      return !form.hidden && !document.querySelector('#view-run').hidden && document.querySelector('#person-title').textContent === `council, turn ${t}: decision`;
    }, turn);
    const prompt = await page.textContent('#person-prompt');
    // What a model in the seat gets: the goals, the world state, the answer format.
    assert.match(prompt, /--- system ---/);
    assert.match(prompt, /Obtain trip data detailed enough to plan two new bus corridors/);
    assert.match(prompt, /Current World State/);
    assert.match(prompt, /\*\*ACTION:\*\*/);
    if (turn === 1) {
      // An empty reply is not sent.
      await page.click('#person-send');
      assert.equal(await page.textContent('#person-note'), 'Write a reply first.');
      await shot(page, 'person-form');
    }
    const reply = `**ACTION:**\nTurn ${turn}: we offer <b>weekly</b> district totals.`;
    replies.push(reply);
    await page.fill('#person-reply', reply);
    if (turn === 1) {
      // Gone to another view when the next question comes: the person is brought back to it.
      await page.evaluate(() => {
        document.querySelector('#person-send').click();
        location.hash = '#results';
      });
    } else {
      await page.click('#person-send');
    }
  }
  const status = await batchEnded(page);
  assert.match(status, /^Completed 1 of 1 runs · 0 failed/);
  assert.equal(await page.isHidden('#person'), true);
  const log = (await readOpfs(page, 'projects/examples/experiments/person/runs/var-001-run-001/llm-calls.jsonl'))
    .trim().split('\n').map((l) => JSON.parse(l));
  const mine = log.filter((c) => c.model === 'human');
  assert.deepEqual(mine.map((c) => c.reply), replies);
  assert.deepEqual(mine.map((c) => c.cost_nanos), [0, 0, 0]);
  assert.deepEqual(errors, []);
});
