// lib/storage/indexeddb.js owns the Storage over IndexedDB: for browsers or contexts without an
// origin-private file system (some private-browsing modes), and for embedders who already keep
// their data there. One object store holds one record per file, keyed by its normalised path.
//
// Every write and append is one readwrite transaction, which IndexedDB commits atomically: a
// closed tab leaves the old text or the new, never a mix. Folders are implicit (the prefixes of
// the stored paths), so `list` is a key-range scan over the folder's prefix.

import { normalize } from './paths.js';

const STORE = 'files';

const request = (req) => new Promise((done, fail) => {
  req.onsuccess = () => done(req.result);
  req.onerror = () => fail(req.error);
});

const finished = (tx) => new Promise((done, fail) => {
  tx.oncomplete = () => done();
  tx.onerror = () => fail(tx.error);
  tx.onabort = () => fail(tx.error ?? new Error('transaction aborted'));
});

/** @import { TreeStorage } from './memory.js' */

/**
 * Over IndexedDB (`indexedDbStorage`): folders are implicit, so an empty folder does not exist.
 * `close()` closes the database connection (it reopens on next use).
 * @typedef {TreeStorage & { close(): void }} IndexedDbStorage
 */

/**
 * A Storage over an IndexedDB database (made when missing): one record per file, each write one
 * transaction (so atomic). Throws when the browser has no IndexedDB.
 * @param {{ name?: string }} [options] the database name (default `scenario-lab`)
 * @returns {IndexedDbStorage}
 */
export function indexedDbStorage(options = {}) {
  if (typeof indexedDB === 'undefined') throw new Error('this browser has no IndexedDB');
  const name = options.name ?? 'scenario-lab';
  let dbPromise;
  const db = () => {
    dbPromise ??= new Promise((done, fail) => {
      const open = indexedDB.open(name, 1);
      open.onupgradeneeded = () => open.result.createObjectStore(STORE);
      open.onsuccess = () => done(open.result);
      open.onerror = () => fail(open.error);
    });
    return dbPromise;
  };
  const fail = (verb, path, e) => new Error(`cannot ${verb} ${path}: ${e?.name ?? ''} ${e?.message ?? e}`.trim(), { cause: e });
  const range = (dir) => (dir === '' ? null : IDBKeyRange.bound(`${dir}/`, `${dir}/\uffff`));

  /** The stored paths under `dir`, or the first of them when `one`. */
  const keysUnder = async (dir, one = false) => {
    const store = (await db()).transaction(STORE, 'readonly').objectStore(STORE);
    return request(store.getAllKeys(range(dir), one ? 1 : undefined));
  };

  return {
    async read(path) {
      try {
        const store = (await db()).transaction(STORE, 'readonly').objectStore(STORE);
        const text = await request(store.get(normalize(path)));
        return typeof text === 'string' ? text : null;
      } catch (e) {
        throw fail('read', path, e);
      }
    },

    async write(path, text) {
      const key = normalize(path);
      if (!key) throw new Error(`cannot write ${path}: it is the root folder`);
      try {
        const tx = (await db()).transaction(STORE, 'readwrite');
        tx.objectStore(STORE).put(String(text), key);
        await finished(tx);
      } catch (e) {
        throw fail('write', path, e);
      }
    },

    async append(path, text) {
      const key = normalize(path);
      if (!key) throw new Error(`cannot append to ${path}: it is the root folder`);
      try {
        const tx = (await db()).transaction(STORE, 'readwrite');
        const store = tx.objectStore(STORE);
        const get = store.get(key);
        get.onsuccess = () => store.put((typeof get.result === 'string' ? get.result : '') + String(text), key);
        await finished(tx);
      } catch (e) {
        throw fail('append to', path, e);
      }
    },

    async list(dir) {
      const key = normalize(dir);
      try {
        const keys = await keysUnder(key);
        if (keys.length === 0) return key === '' ? [] : null;
        const cut = key === '' ? 0 : key.length + 1;
        return [...new Set(keys.map((k) => k.slice(cut).split('/')[0]))].sort();
      } catch (e) {
        throw fail('list', dir, e);
      }
    },

    async exists(path) {
      const key = normalize(path);
      if (!key) return true;
      try {
        const store = (await db()).transaction(STORE, 'readonly').objectStore(STORE);
        if ((await request(store.count(key))) > 0) return true;
        return (await keysUnder(key, true)).length > 0;
      } catch (e) {
        throw fail('check', path, e);
      }
    },

    async remove(path) {
      try {
        const tx = (await db()).transaction(STORE, 'readwrite');
        tx.objectStore(STORE).delete(normalize(path));
        await finished(tx);
      } catch (e) {
        throw fail('remove', path, e);
      }
    },

    async removeTree(path) {
      const key = normalize(path);
      try {
        const tx = (await db()).transaction(STORE, 'readwrite');
        const store = tx.objectStore(STORE);
        if (key === '') store.clear();
        else {
          store.delete(key);
          store.delete(range(key));
        }
        await finished(tx);
      } catch (e) {
        throw fail('remove', path, e);
      }
    },

    /** Closes the database connection (the storage reopens it on next use). */
    close() {
      dbPromise?.then((d) => d.close());
      dbPromise = undefined;
    },
  };
}
