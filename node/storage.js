// node/storage.js owns the filesystem Storage: the object the wasm core reads and writes files
// through when it runs in Node. The core never touches `fs`; this file is the only place that
// does. The contract (what each method returns and when) is the `Storage` interface in
// index.d.ts, mirrored from the core's `host::Storage` trait.
//
// Paths are `/`-separated; a relative path is resolved against the root (by default the current
// working directory, read at call time so that a later `process.chdir` is honoured). Absolute
// paths are accepted as given.

import { appendFile, mkdir, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';

// "Not there" answers (null / false) rather than errors: a missing file, a path through a
// file (ENOTDIR), or a directory where a file was asked for (EISDIR).
const MISSING = new Set(['ENOENT', 'ENOTDIR']);

/**
 * A Storage over the local filesystem.
 * @param {{ root?: string }} [options] folder that relative paths are resolved against
 *   (default: the current working directory at the time of each call)
 * @returns {import('../index.d.ts').Storage}
 */
export function nodeStorage(options = {}) {
  const at = (path) => resolve(options.root ?? process.cwd(), String(path));
  // Folders made by this storage: a batch writes many files per folder, and a mkdir per write
  // was measurable (bench/README.md). A folder removed behind our back is made again on ENOENT.
  const made = new Set();
  const ensureDir = async (dir, again = false) => {
    if (again || !made.has(dir)) {
      await mkdir(dir, { recursive: true });
      made.add(dir);
    }
  };
  const withDir = async (target, op) => {
    await ensureDir(dirname(target));
    try {
      return await op();
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
      await ensureDir(dirname(target), true);
      return op();
    }
  };
  return {
    async read(path) {
      try {
        return await readFile(at(path), 'utf8');
      } catch (err) {
        if (MISSING.has(err.code) || err.code === 'EISDIR') return null;
        throw storageError('read', path, err);
      }
    },

    // Atomic: write a temporary file next to the target, then rename it over the target, so a
    // reader (or a crash) sees either the old text or the new, never a torn file.
    async write(path, text) {
      const target = at(path);
      const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        await withDir(target, () => writeFile(tmp, text, 'utf8'));
        await rename(tmp, target);
      } catch (err) {
        await unlink(tmp).catch(() => {});
        throw storageError('write', path, err);
      }
    },

    async append(path, text) {
      const target = at(path);
      try {
        await withDir(target, () => appendFile(target, text, 'utf8'));
      } catch (err) {
        throw storageError('append to', path, err);
      }
    },

    async list(dir) {
      try {
        const names = await readdir(at(dir));
        return names.sort();
      } catch (err) {
        if (MISSING.has(err.code)) return null;
        throw storageError('list', dir, err);
      }
    },

    async exists(path) {
      try {
        await stat(at(path));
        return true;
      } catch (err) {
        if (MISSING.has(err.code)) return false;
        throw storageError('check', path, err);
      }
    },

    async remove(path) {
      try {
        await rm(at(path), { force: true });
      } catch (err) {
        throw storageError('remove', path, err);
      }
    },
  };
}

/**
 * The same Storage with writes refused: what a dry run gets, so that "a dry run writes nothing"
 * is enforced here rather than merely promised.
 * @param {import('../index.d.ts').Storage} storage
 * @returns {import('../index.d.ts').Storage}
 */
export function readOnlyStorage(storage) {
  const refuse = async (path) => {
    throw new Error(`refused to write ${path}: this storage is read-only (a dry run writes nothing)`);
  };
  return {
    read: (path) => storage.read(path),
    list: (dir) => storage.list(dir),
    exists: (path) => storage.exists(path),
    write: refuse,
    append: refuse,
    remove: refuse,
  };
}

function storageError(verb, path, err) {
  const e = new Error(`cannot ${verb} ${path}: ${err.code ?? err.message}`, { cause: err });
  e.code = err.code;
  return e;
}
