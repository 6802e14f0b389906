// examples/embed.html, the embedding example (issue 6), kept working: another page that loads
// the package's browser entry, runs the quick-start experiment on the built-in model in an
// in-memory storage, and draws a live progress view from the batch events with BatchProgress.
// Also the package's storages against one contract, in the browser they are made for.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, shot } from './helpers.mjs';

let env;

before(async () => {
  env = await setup();
});

after(async () => {
  await env?.close();
});

test('the embedding example runs a batch with a live progress view', async () => {
  const tab = await openPage(env, '/examples/embed.html');
  const { page } = tab;
  await page.waitForFunction(() => window.embedResult, null, { timeout: 60_000 });
  const { outcome, events, error } = await page.evaluate(() => window.embedResult);
  assert.equal(error, undefined);
  assert.equal(outcome.runs_completed, 3);
  assert.equal(outcome.total_runs, 3);
  assert.equal(events[0], 'batch_started');
  assert.equal(events.at(-1), 'summary');
  assert.equal(events.filter((e) => e === 'run_started').length, 3);
  assert.equal(events.filter((e) => e === 'run_finished').length, 3);
  assert.deepEqual(await page.$$eval('#grid .cell', (c) => c.map((x) => x.dataset.status)), ['completed', 'completed', 'completed']);
  assert.equal(await page.textContent('#title'), 'quick-start: 3 of 3 runs completed');
  assert.match(await page.textContent('#figures'), /0 failed · 0 halted · 0 in flight · spent \$0\.00 · done/);
  await shot(page, '12-embed');
  assert.deepEqual(tab.errors, []);
  await tab.context.close();
});

test('the OPFS, IndexedDB and memory storages keep the Storage contract (main thread and worker)', async () => {
  // Any same-origin document will do; a stylesheet has no favicon link, so answer that here.
  const tab = await openPage(env, null);
  const { page } = tab;
  await page.route('**/favicon.ico', (r) => r.fulfill({ status: 204 }));
  await page.goto(`${env.url}/www/style.css`);
  const contract = async (kind) => {
    const { opfsStorage, indexedDbStorage, memoryStorage } = await import('/lib/browser.js');
    const s = kind === 'opfs' ? opfsStorage({ root: 'contract-test' }) : kind === 'indexeddb' ? indexedDbStorage({ name: 'contract-test' }) : memoryStorage();
    const out = {};
    await s.removeTree('');
    out.missing = [await s.read('a/b.txt'), await s.list('a'), await s.exists('a'), await s.exists('a/b.txt')];
    await s.write('a/b.txt', 'one');
    await s.write('a/b.txt', 'two ünïcode');
    await s.write('./a/../a/c/d.json', '{}');
    await s.append('a/log.jsonl', 'x\n');
    await s.append('a/log.jsonl', 'y\n');
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.append('a/many.txt', `${i},`)));
    out.read = [await s.read('a/b.txt'), await s.read('a/log.jsonl'), await s.read('a/c/d.json')];
    out.many = (await s.read('a/many.txt')).split(',').filter(Boolean).map(Number).sort((x, y) => x - y).join(',');
    out.list = [await s.list('a'), await s.list('a/c'), await s.list('/a/c/'), await s.read('a')];
    out.exists = [await s.exists('a'), await s.exists('a/c'), await s.exists('a/b.txt'), await s.exists('a/nope')];
    await s.remove('a/b.txt');
    await s.remove('a/b.txt');
    out.removed = [await s.read('a/b.txt'), (await s.list('a')).includes('b.txt')];
    await s.removeTree('a/c');
    out.tree = [await s.exists('a/c/d.json'), await s.list('a/c'), await s.read('a/log.jsonl')];
    await s.removeTree('');
    return out;
  };
  const expected = {
    missing: [null, null, false, false],
    read: ['two ünïcode', 'x\ny\n', '{}'],
    many: Array.from({ length: 20 }, (_, i) => i).join(','),
    list: [['b.txt', 'c', 'log.jsonl', 'many.txt'], ['d.json'], ['d.json'], null],
    exists: [true, true, true, false],
    removed: [null, false],
    tree: [false, null, 'x\ny\n'],
  };
  for (const kind of ['opfs', 'indexeddb', 'memory']) {
    assert.deepEqual(await page.evaluate(contract, kind), expected, `${kind} on the main thread`);
  }
  // In a worker, where the OPFS storage appends through sync access handles.
  const inWorker = await page.evaluate(async (source) => {
    const code = `self.onmessage = async (e) => { const contract = ${source}; try { postMessage(await contract(e.data)); } catch (err) { postMessage({ error: String(err) }); } };`;
    const url = URL.createObjectURL(new Blob([code.replaceAll("'/lib/browser.js'", `'${location.origin}/lib/browser.js'`)], { type: 'text/javascript' }));
    const w = new Worker(url, { type: 'module' });
    const run = (kind) => new Promise((done) => { w.onmessage = (m) => done(m.data); w.postMessage(kind); });
    const out = { opfs: await run('opfs'), indexeddb: await run('indexeddb') };
    w.terminate();
    return out;
  }, contract.toString());
  assert.deepEqual(inWorker.opfs, expected, 'opfs in a worker');
  assert.deepEqual(inWorker.indexeddb, expected, 'indexeddb in a worker');
  assert.deepEqual(tab.errors, []);
  await tab.context.close();
});
