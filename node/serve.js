// node/serve.js owns the local static server behind `scenario-lab serve`: it serves the web page
// (www/) and the package files the page imports (lib/, pkg/), plus examples/, from the package
// folder, on 127.0.0.1 only. It is a convenience for local
// use: the page itself needs no server of ours and works from any static host that serves the
// package folder (with `application/wasm` for .wasm, which every common host does).
//
// It serves nothing else: not the experiments' outputs, not node/, not the Rust sources. Paths
// are decoded, normalised and checked to stay inside an allowed prefix; `..`, encoded slashes
// and NUL bytes are refused. Compressible files are sent gzipped when the browser accepts it,
// so the page's transfer size measured against this server is what a static host would send.

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package folder (the parent of node/). */
export const PACKAGE_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** What may be served: folders end with `/`, files are exact. */
const ALLOWED = ['www/', 'pkg/', 'lib/', 'examples/'];

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.yaml': 'text/yaml; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.wasm', '.svg', '.map', '.md', '.yaml', '.ts', '.txt']);

/**
 * The file a URL path names, or null when it is not one we serve.
 * @param {string} root the package folder
 * @param {string} urlPath the request's path, still percent-encoded
 */
export function resolveRequest(root, urlPath) {
  let path;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (path.includes('\0') || path.includes('\\')) return null;
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return null;
  let rel = parts.join('/');
  if (path.endsWith('/') && rel) rel += '/';
  if (rel.endsWith('/') || rel === '') rel += 'index.html';
  if (!ALLOWED.some((a) => (a.endsWith('/') ? rel.startsWith(a) : rel === a))) return null;
  const file = resolve(root, rel);
  if (!file.startsWith(root + sep)) return null;
  return { rel, file };
}

/**
 * Starts the server. Resolves once it listens.
 * @param {{ root?: string, port?: number, host?: string,
 *   onServe?: (entry: { path: string, status: number, bytes: number, encoding: string | null }) => void }} [options]
 *   `onServe` is told of every answer (tests measure the page's transfer size with it)
 * @returns {Promise<{ url: string, port: number, close(): Promise<void> }>}
 */
export async function startStaticServer(options = {}) {
  const root = resolve(options.root ?? PACKAGE_ROOT);
  const host = options.host ?? '127.0.0.1';
  const gzCache = new Map(); // file -> { mtimeMs, body }

  const server = createServer(async (req, res) => {
    const told = (status, bytes, encoding = null) => options.onServe?.({ path: req.url, status, bytes, encoding });
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
      told(status, Buffer.byteLength(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n', { allow: 'GET, HEAD' });
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/') return send(302, 'see /www/\n', { location: '/www/' });
    const target = resolveRequest(root, url.pathname);
    if (!target) return send(404, 'not found\n');
    let info;
    try {
      info = await stat(target.file);
    } catch {
      return send(404, 'not found\n');
    }
    if (info.isDirectory()) return send(302, 'moved\n', { location: `${url.pathname}/` });
    const ext = extname(target.file).toLowerCase();
    const headers = {
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      vary: 'accept-encoding',
    };
    try {
      let body = await readFile(target.file);
      if (COMPRESSIBLE.has(ext) && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
        let hit = gzCache.get(target.file);
        if (!hit || hit.mtimeMs !== info.mtimeMs) {
          hit = { mtimeMs: info.mtimeMs, body: gzipSync(body, { level: 9 }) };
          gzCache.set(target.file, hit);
        }
        body = hit.body;
        headers['content-encoding'] = 'gzip';
      }
      headers['content-length'] = String(body.length);
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
      told(200, body.length, headers['content-encoding'] ?? null);
    } catch (e) {
      send(500, `cannot read ${target.rel}: ${e.code ?? e.message}\n`);
    }
  });

  await new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, done);
  });
  const port = server.address().port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close() {
      return new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
    },
  };
}

/** For tests: the path of a file inside the package. */
export const packagePath = (...parts) => join(PACKAGE_ROOT, ...parts);
