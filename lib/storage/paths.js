// lib/storage/paths.js owns the path rule shared by the browser storages: a `/`-separated path is
// split into segments inside the storage's root. `.` and empty segments are dropped, `..` climbs
// but never above the root, and a leading `/` means the root too (a browser storage has no
// other file system to reach). The core normalises its paths already; this keeps a storage safe
// when handed anything else.

/**
 * @param {string} path
 * @returns {string[]} the segments, [] for the root
 */
export function segments(path) {
  const out = [];
  for (const seg of String(path).split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return out;
}

/**
 * The normalised path (no leading `/`; '' for the root).
 * @param {string} path
 * @returns {string}
 */
export const normalize = (path) => segments(path).join('/');
