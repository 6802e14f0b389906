// www/files.js owns reading what a user hands the page from their disk: a folder (through the
// File System Access API where the browser has it, a `webkitdirectory` input or a dropped folder
// otherwise) or a zip, into `[{ path, bytes }]` (ArrayBuffers, moved to the worker without a
// copy). It reads; the worker decides what is text and where it goes.

const SKIP = new Set(['.git', 'node_modules', 'target', '.venv', '.venv-llm', '__pycache__', '.DS_Store']);
const MAX_FILE = 20 * 2 ** 20;

/** Files of a FileSystemDirectoryHandle, paths relative to it. */
export async function readDirectoryHandle(dir, prefix = '') {
  const out = [];
  for await (const [name, handle] of dir.entries()) {
    if (SKIP.has(name)) continue;
    const path = prefix ? `${prefix}/${name}` : name;
    if (handle.kind === 'directory') out.push(...(await readDirectoryHandle(handle, path)));
    else {
      const file = await handle.getFile();
      if (file.size <= MAX_FILE) out.push({ path, bytes: await file.arrayBuffer() });
    }
  }
  return out;
}

/** Files of an `<input webkitdirectory>`: paths relative to the chosen folder. */
export async function readFileList(fileList) {
  const out = [];
  for (const file of fileList) {
    const rel = (file.webkitRelativePath || file.name).split('/');
    if (rel.some((p) => SKIP.has(p)) || file.size > MAX_FILE) continue;
    // The first segment is the chosen folder itself.
    out.push({ path: rel.length > 1 ? rel.slice(1).join('/') : rel[0], bytes: await file.arrayBuffer() });
  }
  return out;
}

/** The chosen folder's name in an `<input webkitdirectory>` selection. */
export const folderName = (fileList) => (fileList[0]?.webkitRelativePath || '').split('/')[0] || 'folder';

/** Files of a dropped folder (a FileSystemDirectoryEntry). */
export async function readEntry(entry, prefix = '') {
  if (entry.isFile) {
    const file = await new Promise((done, fail) => entry.file(done, fail));
    return file.size <= MAX_FILE ? [{ path: prefix ? `${prefix}/${entry.name}` : entry.name, bytes: await file.arrayBuffer() }] : [];
  }
  const reader = entry.createReader();
  const out = [];
  for (;;) {
    const batch = await new Promise((done, fail) => reader.readEntries(done, fail));
    if (batch.length === 0) break;
    for (const child of batch) {
      if (SKIP.has(child.name)) continue;
      out.push(...(await readEntry(child, prefix ? `${prefix}/${child.name}` : child.name)));
    }
  }
  return out;
}

/**
 * What was dropped: `{ kind: 'zip', name, bytes }`, `{ kind: 'folder', name, files }`, or null.
 * @param {DataTransfer} dt
 */
export async function readDrop(dt) {
  const item = [...(dt.items ?? [])].find((i) => i.kind === 'file');
  const entry = item?.webkitGetAsEntry?.();
  if (entry?.isDirectory) return { kind: 'folder', name: entry.name, files: await readEntry(entry) };
  const file = dt.files?.[0];
  if (file && /\.zip$/i.test(file.name)) return { kind: 'zip', name: file.name.replace(/\.zip$/i, ''), bytes: await file.arrayBuffer() };
  return null;
}

/** A project name from a folder or zip name: letters, digits, `.`, `_` and `-`. */
export function projectName(name) {
  const clean = String(name).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 60) || 'project';
  return clean === 'examples' || clean === 'upload' ? `my-${clean}` : clean;
}
