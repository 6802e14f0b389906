// node/storage.js owns the filesystem Storage: the object the wasm core reads and writes files
// through when it runs in Node. The core never touches `fs`; this file is the only place that
// does. The contract (what each method returns and when) is the `Storage` interface in
// pkg/scenario_lab.d.ts (declared by the core, mirroring its `host::Storage` trait).
//
// Paths are `/`-separated; a relative path is resolved against the root (by default the current
// working directory, read at call time so that a later `process.chdir` is honoured). Absolute
// paths are accepted as given.

import { appendFile, mkdir, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import {
  closeSync, constants, existsSync, lstatSync, opendirSync, openSync, readSync, readlinkSync, realpathSync, statSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';

/** @import { Storage } from '../pkg/scenario_lab.js' */

// "Not there" answers (null / false) rather than errors: a missing file, a path through a
// file (ENOTDIR), or a directory where a file was asked for (EISDIR).
const MISSING = new Set(['ENOENT', 'ENOTDIR']);

/**
 * A Storage over the local filesystem.
 * @param {{ root?: string }} [options] folder that relative paths are resolved against
 *   (default: the current working directory at the time of each call)
 * @returns {Storage}
 */
export function nodeStorage(options = {}) {
  const at = (path) => resolve(options.root ?? process.cwd(), String(path));
  // Folders made by this storage: a batch writes many files per folder, and a mkdir per write
  // was measurable (bench/README.md). A folder removed behind our back is made again on ENOENT.
  const made = new Set();
  let written = 0; // names this process's temporary files apart
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
    // Bytes, not text: the core decodes them, and refuses bytes that are not UTF-8 with their
    // offset (Node's 'utf8' decoding would mend them silently with U+FFFD).
    async read(path) {
      try {
        return await readFile(at(path));
      } catch (err) {
        if (MISSING.has(err.code) || err.code === 'EISDIR') return null;
        throw storageError('read', path, err);
      }
    },

    // Atomic: write a temporary file next to the target, then rename it over the target, so a
    // reader (or a crash) sees either the old text or the new, never a torn file.
    async write(path, text) {
      const target = at(path);
      const tmp = `${target}.tmp-${process.pid}-${(written++).toString(36)}`;
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
 * A Storage for analysing an untrusted folder: nothing it reads or writes may be reached through
 * a symbolic link inside `dir`, so a link planted in a result folder (say
 * `runs/var-001-run-001 -> /home/me`, or `metrics.json -> /etc/passwd`) cannot make the analysis
 * read or write outside it; such a path reads as missing and refuses writes.
 *
 * How: a folder is trusted when its parent is and it is not a link (`dir` itself, as given, is
 * trusted); a listing learns its entries' kinds from the same readdir, so the thousands of run
 * folders under `runs/` cost no extra system call; files are opened with O_NOFOLLOW. Reads are
 * synchronous and answer at once rather than with a Promise (the core accepts both), and `read`
 * answers bytes in a reused buffer (valid until the next read; the core copies them at once): the analysis reads tens of thousands of small files one after another, and a
 * read through the thread pool, a Promise and a JS string cost several times the read itself
 * (bench/README.md).
 * @param {string} dir the folder being analysed
 * @returns {Storage}
 */
export function confinedStorage(dir) {
  const inner = nodeStorage();
  const root = resolve(dir);
  // Folders known to be trusted or not; and, for folders already listed, the entries that are
  // links (the rest of their entries are trusted without a system call, and without keeping
  // one map entry per run folder).
  const trusted = new Map([[root, true]]);
  const listed = new Map();
  const trustedDir = (path) => {
    const known = trusted.get(path);
    if (known !== undefined) return known;
    const parent = dirname(path);
    if (parent === path || !path.startsWith(root + sep) || !trustedDir(parent)) return false;
    const links = listed.get(parent);
    if (links) return !links.has(path.slice(parent.length + 1));
    let ok = true;
    try {
      ok = !lstatSync(path).isSymbolicLink();
    } catch (err) {
      if (!MISSING.has(err.code)) throw err; // not there yet: a folder the writer will make
    }
    trusted.set(path, ok);
    return ok;
  };
  const fileOk = (path) => trustedDir(dirname(resolve(String(path))));
  // One buffer for every read: the core copies a file's bytes as soon as `read` returns, so the
  // next read may overwrite them. This spares a fresh allocation per file (and the memory it
  // leaves behind). Hence this storage is for the core, not for other callers.
  let scratch = Buffer.allocUnsafe(1 << 16);
  const refuse = async (path) => {
    throw new Error(`refused: ${path} lies outside ${dir} or behind a symbolic link`);
  };
  return {
    read(path) {
      const target = resolve(String(path));
      if (!fileOk(target)) return null;
      let fd;
      try {
        fd = openSync(target, constants.O_RDONLY | constants.O_NOFOLLOW);
        let n = 0;
        for (;;) {
          if (n === scratch.length) {
            const bigger = Buffer.allocUnsafe(scratch.length * 2);
            scratch.copy(bigger, 0, 0, n);
            scratch = bigger;
          }
          const got = readSync(fd, scratch, n, scratch.length - n, null);
          if (got === 0) break;
          n += got;
        }
        return scratch.subarray(0, n);
      } catch (err) {
        if (MISSING.has(err.code) || err.code === 'EISDIR' || err.code === 'ELOOP') return null;
        throw storageError('read', path, err);
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    },
    list(path) {
      const target = resolve(String(path));
      if (!trustedDir(target)) return null;
      // One entry at a time (not readdirSync's array of them): a folder of 100,000 runs would
      // otherwise hold 100,000 Dirent objects at once.
      const names = [];
      const links = new Set();
      let handle;
      try {
        handle = opendirSync(target, { bufferSize: 256 });
        for (let e; (e = handle.readSync()) !== null; ) {
          names.push(e.name);
          if (e.isSymbolicLink()) links.add(e.name);
        }
      } catch (err) {
        if (MISSING.has(err.code)) return null;
        throw storageError('list', path, err);
      } finally {
        handle?.closeSync();
      }
      listed.set(target, links);
      return names.sort();
    },
    exists(path) {
      const target = resolve(String(path));
      return (trustedDir(target) || fileOk(target)) && existsSync(target);
    },
    write: (path, text) => (fileOk(path) ? inner.write(path, text) : refuse(path)),
    append: (path, text) => (fileOk(path) ? inner.append(path, text) : refuse(path)),
    remove: (path) => (fileOk(path) ? inner.remove(path) : refuse(path)),
  };
}

/**
 * The same Storage with writes refused: what a dry run gets, so that "a dry run writes nothing"
 * is enforced here rather than merely promised.
 * @param {Storage} storage
 * @returns {Storage}
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

/** Entries read from an output folder: enough to tell whose it is, bounded however full it is. */
const FACT_ENTRIES = 64;

/**
 * What the core's output-folder policy (`checkBatchOutput`, `checkRunOutput`; src/outdir.rs)
 * needs to know about `path`, relative to the working directory: its path with every link
 * resolved (through its nearest existing ancestor when it does not exist yet), whether it is
 * itself a link and to where, whether it is a folder, a few of its entries, the platform and
 * the home folder. Gathers; decides nothing.
 * @param {string} path
 */
export function dirFacts(path) {
  const absolute = resolve(process.cwd(), String(path));
  let existing = absolute;
  const rest = [];
  while (!existsSync(existing) && dirname(existing) !== existing) {
    rest.unshift(basename(existing));
    existing = dirname(existing);
  }
  const real = (p) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  const resolved = rest.length ? join(real(existing), ...rest) : real(absolute);
  let linkTarget = null;
  let exists = false;
  let isDir = false;
  try {
    const l = lstatSync(absolute);
    exists = true;
    if (l.isSymbolicLink()) linkTarget = readlinkSync(absolute);
    isDir = statSync(absolute).isDirectory();
  } catch {
    // Not there (or a dangling link): nothing to read.
  }
  const entries = [];
  if (isDir) {
    let handle;
    try {
      handle = opendirSync(absolute, { bufferSize: FACT_ENTRIES });
      for (let e; entries.length < FACT_ENTRIES && (e = handle.readSync()) !== null; ) entries.push(e.name);
    } catch {
      // Unreadable: the writes will say so.
    } finally {
      handle?.closeSync();
    }
  }
  return { written: String(path), resolved, platform: process.platform, home: real(homedir()), exists, isDir, linkTarget, entries };
}

function storageError(verb, path, err) {
  const e = new Error(`cannot ${verb} ${path}: ${err.code ?? err.message}`, { cause: err });
  e.code = err.code;
  return e;
}
