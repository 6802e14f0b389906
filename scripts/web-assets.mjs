#!/usr/bin/env node
// scripts/web-assets.mjs owns the web page's generated files (both gitignored, both shipped in
// the npm package), made by scripts/build.mjs after the wasm:
//
// - www/vendor/: the ESM builds of the page's three libraries, copied from node_modules as they
//   are (no bundler: each is one self-contained ES module), with their licences:
//     marked     markdown to HTML (raw HTML escaped by our renderer; www/markdown.js)
//     dompurify  sanitises that HTML again, the second layer against untrusted LLM text
//     fflate     zip and unzip (download the output tree, open or upload a zip)
//   The page loads them only when first needed (markdown when a run is opened, fflate in the
//   worker when a zip is made or read).
// - www/examples.json: the bundled examples (every file of scenarios/, and each
//   experiments/*/batch-config.yaml), by path, which the page copies into its storage at start.
//
// Run alone with `node scripts/web-assets.mjs`; prints each file's size, raw and gzipped.

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const VENDOR = join(ROOT, 'www', 'vendor');

export const VENDORED = [
  { name: 'marked', from: 'lib/marked.esm.js', to: 'marked.js', licence: 'LICENSE.md' },
  { name: 'dompurify', from: 'dist/purify.es.mjs', to: 'purify.js', licence: 'LICENSE' },
  { name: 'fflate', from: 'esm/browser.js', to: 'fflate.js', licence: 'LICENSE' },
];

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

function files(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else out.push(p);
  }
  return out;
}

/** Writes www/vendor/ and www/examples.json; returns [{ file, bytes, gzipped }]. */
export function buildWebAssets() {
  mkdirSync(VENDOR, { recursive: true });
  const sizes = [];
  const licences = [];
  for (const v of VENDORED) {
    const dir = join(ROOT, 'node_modules', v.name);
    if (!existsSync(join(dir, v.from))) throw new Error(`node_modules/${v.name}/${v.from} is missing: run 'npm ci'`);
    const { version, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    // The source maps are not shipped, so their comments go (a browser would ask for them).
    const code = readFileSync(join(dir, v.from), 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
    const text = `// ${v.name} ${version} (${license}), copied from node_modules/${v.name}/${v.from} by scripts/web-assets.mjs\n${code}`;
    writeFileSync(join(VENDOR, v.to), text);
    sizes.push({ file: `www/vendor/${v.to}`, bytes: Buffer.byteLength(text), gzipped: gzipSync(text, { level: 9 }).length });
    const lic = existsSync(join(dir, v.licence)) ? readFileSync(join(dir, v.licence), 'utf8') : `${license}\n`;
    licences.push(`${'='.repeat(78)}\n${v.name} ${version} (${license})\n${'='.repeat(78)}\n${lic}\n`);
  }
  writeFileSync(join(VENDOR, 'LICENSES.txt'), licences.join('\n'));

  const manifest = { files: {} };
  for (const f of files(join(ROOT, 'scenarios'))) manifest.files[relative(ROOT, f).split('\\').join('/')] = readFileSync(f, 'utf8');
  for (const name of readdirSync(join(ROOT, 'experiments')).sort()) {
    const f = join(ROOT, 'experiments', name, 'batch-config.yaml');
    if (existsSync(f)) manifest.files[`experiments/${name}/batch-config.yaml`] = readFileSync(f, 'utf8');
  }
  const json = JSON.stringify(manifest);
  writeFileSync(join(ROOT, 'www', 'examples.json'), json);
  sizes.push({ file: 'www/examples.json', bytes: Buffer.byteLength(json), gzipped: gzipSync(json, { level: 9 }).length });
  return sizes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const s of buildWebAssets()) process.stderr.write(`web: ${s.file}: ${kb(s.bytes)} raw, ${kb(s.gzipped)} gzipped\n`);
}
