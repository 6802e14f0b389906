// Shared set-up of the browser tests: the page served by the same static server as
// `scenario-lab serve` (node/serve.js), the fake OpenAI-compatible server on 127.0.0.1, headless
// Chromium (Debian's /usr/bin/chromium) driven by playwright-core, and helpers that read the
// browser's storages back (OPFS, IndexedDB, localStorage) the way the tests check them. Every
// page records its console errors, uncaught exceptions and dialogs, so a test can assert there
// were none. Screenshots go to test-artifacts/screenshots/ (gitignored).

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startStaticServer } from '../../node/serve.js';
import { startFakeLlm } from '../fake-llm/server.mjs';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const QUICK = 'experiments/quick-start/batch-config.yaml';

/** Starts the static server (recording what it serves), Chromium, and optionally the fake LLM. */
export async function setup({ fake = null } = {}) {
  const served = [];
  const server = await startStaticServer({ onServe: (e) => served.push(e) });
  const llm = fake ? await startFakeLlm({ port: 0, ...fake }) : null;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  mkdirSync(SHOTS, { recursive: true });
  return {
    url: server.url,
    server,
    llm,
    browser,
    served,
    async close() {
      await browser.close();
      await server.close();
      await llm?.close();
    },
  };
}

/**
 * A fresh browser context (its own OPFS, IndexedDB and localStorage) and page, recording console
 * errors (the page's and its workers'), uncaught exceptions and dialogs. A `beforeunload` dialog
 * is accepted, as a person leaving the page mid-batch would.
 */
export async function openPage(env, path = '/www/', { context } = {}) {
  const ctx = context ?? (await env.browser.newContext({ viewport: { width: 1320, height: 900 }, acceptDownloads: true }));
  const page = await ctx.newPage();
  const errors = [];
  const dialogs = [];
  // The page's console events include its workers' messages.
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  page.on('dialog', async (d) => {
    if (d.type() === 'beforeunload') return d.accept();
    dialogs.push({ type: d.type(), message: d.message() });
    return d.dismiss();
  });
  if (path) await page.goto(env.url + path);
  return { context: ctx, page, errors, dialogs };
}

/** Waits until the page is interactive (engine up, examples installed, a config validated). */
export async function ready(page) {
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** The text of a file in the page's OPFS (path from the OPFS root), or null. */
export function readOpfs(page, path) {
  return page.evaluate(async (p) => {
    let dir = await navigator.storage.getDirectory();
    const parts = p.split('/');
    try {
      for (const seg of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(seg);
      return await (await (await dir.getFileHandle(parts.at(-1))).getFile()).text();
    } catch {
      return null;
    }
  }, path);
}

/** Every file in the page's OPFS under `prefix`: { path: text }. */
export function opfsFiles(page, prefix = '') {
  return page.evaluate(async (prefix) => {
    const out = {};
    const walk = async (dir, at) => {
      for await (const [name, h] of dir.entries()) {
        const p = at ? `${at}/${name}` : name;
        if (h.kind === 'directory') await walk(h, p);
        else out[p] = await (await h.getFile()).text();
      }
    };
    let root = await navigator.storage.getDirectory();
    try {
      for (const seg of prefix.split('/').filter(Boolean)) root = await root.getDirectoryHandle(seg);
    } catch {
      return out;
    }
    await walk(root, prefix.replace(/\/$/, ''));
    return out;
  }, prefix);
}

/** Everything the page keeps in IndexedDB and localStorage, as one string to search. */
export function otherStorage(page) {
  return page.evaluate(async () => {
    const parts = [JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage })];
    for (const { name } of (await indexedDB.databases()) ?? []) {
      const db = await new Promise((done, fail) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => done(r.result);
        r.onerror = () => fail(r.error);
      });
      for (const store of db.objectStoreNames) {
        const all = await new Promise((done, fail) => {
          const r = db.transaction(store).objectStore(store).getAll();
          r.onsuccess = () => done(r.result);
          r.onerror = () => fail(r.error);
        });
        parts.push(JSON.stringify(all));
      }
      db.close();
    }
    return parts.join('\n');
  });
}

/** A figure's exact value on the dashboard (`data-value` of `[data-fig=key]` under `scope`). */
export async function figure(page, key, scope = '#dashboard') {
  return page.$eval(`${scope} [data-fig="${key}"]`, (el) => el.dataset.value);
}

/** Puts `text` in the config editor as a person typing would (an input event). */
export async function typeConfig(page, text) {
  await page.fill('#config-text', text);
}

/**
 * `page.waitForFunction(fn, arg)`, but a time-out says what the page showed (its run status,
 * alert and dashboard log) and leaves a screenshot `failed-<label>.png`.
 */
export async function waitFor(page, label, fn, arg = null, timeout = 60_000) {
  try {
    await page.waitForFunction(fn, arg, { timeout });
  } catch (e) {
    const seen = await page.evaluate(() => ({
      status: document.querySelector('#run-status')?.textContent,
      alert: document.querySelector('#alert:not([hidden])')?.textContent,
      log: document.querySelector('#run-log')?.textContent,
      grid: [...document.querySelectorAll('#run-grid .cell')].map((c) => c.dataset.status).join(' '),
    })).catch(() => ({}));
    await shot(page, `failed-${label}`).catch(() => {});
    throw new Error(`${label}: ${e.message.split('\n')[0]}; the page showed ${JSON.stringify(seen)}`);
  }
}

/**
 * Waits until the Run view's status says the batch ended (a status other than `previous`, when
 * given), and returns that text.
 */
export async function batchEnded(page, previous = null, timeout = 120_000) {
  await waitFor(page, 'batch-ended', (prev) => {
    const t = document.querySelector('#run-status')?.textContent ?? '';
    return t !== prev && /^Completed \d+ of \d+ runs/.test(t);
  }, previous, timeout);
  return page.textContent('#run-status');
}
