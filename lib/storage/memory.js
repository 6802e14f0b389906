// lib/storage/memory.js owns the in-memory Storage: files in a Map, gone when the page or worker
// goes. The web page uses it for uploaded result trees (analysed, never written to disk) and an
// embedding page for a batch it does not need to keep. It works anywhere (browser, worker, Node).
//
// Folders exist implicitly: writing `a/b/c.md` makes `a` and `a/b`. A folder keeps existing
// after its last file is removed, as on a disk, until `removeTree` removes it.

import { normalize, segments } from './paths.js';

/** @import { Storage } from '../../pkg/scenario_lab.js' */

/**
 * A Storage that can also delete a whole folder (the browser storages: memory, OPFS,
 * IndexedDB): `removeTree(path)` deletes a file or a folder with everything in it, and resolves
 * quietly when there is none.
 * @typedef {Storage & { removeTree(path: string): Promise<void> }} TreeStorage
 */
/**
 * In memory (`memoryStorage`): folders exist once a file is written in them.
 * @typedef {TreeStorage} MemoryStorage
 */

/**
 * A Storage held in memory, gone with the page (or worker, or process). Works anywhere.
 * @param {Record<string, string>} [files] initial files, by path
 * @returns {MemoryStorage}
 */
export function memoryStorage(files = {}) {
  const data = new Map(); // path -> text
  const dirs = new Map([['', new Set()]]); // folder path -> child names

  const addParents = (path) => {
    const parts = segments(path);
    for (let i = 0; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      let children = dirs.get(dir);
      if (!children) dirs.set(dir, (children = new Set()));
      children.add(parts[i]);
      if (i < parts.length - 1) {
        const sub = parts.slice(0, i + 1).join('/');
        if (data.has(sub)) throw new Error(`cannot write ${path}: ${sub} is a file`);
        if (!dirs.has(sub)) dirs.set(sub, new Set());
      }
    }
  };
  const put = (path, text) => {
    const key = normalize(path);
    if (key === '' || dirs.has(key)) throw new Error(`cannot write ${path}: it is a folder`);
    addParents(key);
    data.set(key, String(text));
  };
  const unlink = (key) => {
    const parts = key.split('/');
    dirs.get(parts.slice(0, -1).join('/'))?.delete(parts.at(-1));
  };

  for (const [path, text] of Object.entries(files)) put(path, text);

  return {
    async read(path) {
      return data.get(normalize(path)) ?? null;
    },
    async write(path, text) {
      put(path, text);
    },
    async append(path, text) {
      const key = normalize(path);
      put(key, (data.get(key) ?? '') + String(text));
    },
    async list(dir) {
      const children = dirs.get(normalize(dir));
      return children ? [...children].sort() : null;
    },
    async exists(path) {
      const key = normalize(path);
      return data.has(key) || dirs.has(key);
    },
    async remove(path) {
      const key = normalize(path);
      if (data.delete(key)) unlink(key);
    },
    async removeTree(path) {
      const key = normalize(path);
      if (data.delete(key)) return unlink(key);
      if (!dirs.has(key)) return;
      const prefix = key === '' ? '' : `${key}/`;
      for (const k of [...data.keys()]) if (k.startsWith(prefix)) data.delete(k);
      for (const d of [...dirs.keys()]) if (d.startsWith(prefix) && d !== '') dirs.delete(d);
      if (key === '') dirs.get('').clear();
      else {
        dirs.delete(key);
        unlink(key);
      }
    },
  };
}
