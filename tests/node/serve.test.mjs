// `scenario-lab serve` and its static server (node/serve.js): the web page and the package files
// it loads, with the right MIME types (application/wasm for the core), gzipped when the browser
// accepts it, on 127.0.0.1 only, and nothing else of the package: no source, no node/, no batch
// outputs, and no way out of the allowed folders.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStaticServer, resolveRequest, PACKAGE_ROOT } from '../../node/serve.js';

let srv;

before(async () => {
  srv = await startStaticServer({ port: 0 });
});

after(async () => {
  await srv?.close();
});

/** A raw GET (the path is sent as written, `..` and all). */
function get(path, headers = {}) {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port: srv.port, path, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end();
  });
}

test('the page, the package entry and the wasm are served with their MIME types', async () => {
  const cases = [
    ['/www/', 'text/html; charset=utf-8'],
    ['/www/main.js', 'text/javascript; charset=utf-8'],
    ['/www/style.css', 'text/css; charset=utf-8'],
    ['/lib/browser.js', 'text/javascript; charset=utf-8'],
    ['/lib/storage/opfs.js', 'text/javascript; charset=utf-8'],
    ['/pkg/scenario_lab.js', 'text/javascript; charset=utf-8'],
    ['/pkg/scenario_lab_bg.wasm', 'application/wasm'],
    ['/www/examples.json', 'application/json; charset=utf-8'],
    ['/examples/embed.html', 'text/html; charset=utf-8'],
  ];
  for (const [path, type] of cases) {
    const r = await get(path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers['content-type'], type, path);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
  }
  const wasm = await get('/pkg/scenario_lab_bg.wasm');
  assert.deepEqual(wasm.body, readFileSync(join(PACKAGE_ROOT, 'pkg', 'scenario_lab_bg.wasm')));
  const root = await get('/');
  assert.equal(root.status, 302);
  assert.equal(root.headers.location, '/www/');
});

test('compressible files are gzipped when the browser accepts it', async () => {
  const r = await get('/pkg/scenario_lab_bg.wasm', { 'accept-encoding': 'gzip, deflate, br' });
  assert.equal(r.headers['content-encoding'], 'gzip');
  const raw = readFileSync(join(PACKAGE_ROOT, 'pkg', 'scenario_lab_bg.wasm'));
  assert.ok(r.body.length < raw.length / 1.5, `${r.body.length} bytes for ${raw.length}`);
  assert.deepEqual(gunzipSync(r.body), raw);
});

test('nothing outside the page and the package files it needs is served', async () => {
  for (const path of ['/node/cli.js', '/package.json', '/Cargo.toml', '/src/lib.rs', '/experiments/quick-start/batch-config.yaml',
    '/www/../node/cli.js', '/www/%2e%2e/node/cli.js', '/www/..%2fnode/cli.js', '/pkg/..%5c..%5cCargo.toml', '/www/%00', '/www/nope.js', '/.git/config']) {
    const r = await get(path);
    assert.equal(r.status, 404, `${path} answered ${r.status}`);
  }
  assert.equal(resolveRequest(PACKAGE_ROOT, '/www/a/../../node/cli.js'), null);
  assert.equal(resolveRequest(PACKAGE_ROOT, '/%E0%A4%A'), null, 'a malformed escape');
  const post = await new Promise((done) => {
    const req = request({ host: '127.0.0.1', port: srv.port, path: '/www/', method: 'POST' }, (res) => { res.resume(); done(res.statusCode); });
    req.end();
  });
  assert.equal(post, 405);
});

test('scenario-lab serve prints the address, serves on 127.0.0.1, and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'node', 'cli.js'), 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let errText = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (errText += d));
  for (let i = 0; i < 100 && !/http:\/\/127\.0\.0\.1:\d+\/www\//.test(out); i++) await new Promise((r) => setTimeout(r, 50));
  const url = /http:\/\/127\.0\.0\.1:\d+\/www\//.exec(out)?.[0];
  assert.ok(url, `no address in: ${out}${errText}`);
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>Scenario Lab<\/title>/);
  const code = await new Promise((done) => {
    child.on('close', done);
    child.kill('SIGTERM');
  });
  assert.equal(code, 0);
  assert.match(errText, /serving on 127\.0\.0\.1 only/);
});

test('scenario-lab serve refuses a bad port', async () => {
  const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'node', 'cli.js'), 'serve', '--port', 'eighty'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let errText = '';
  child.stderr.on('data', (d) => (errText += d));
  const code = await new Promise((done) => child.on('close', done));
  assert.equal(code, 2);
  assert.match(errText, /--port must be a port number/);
});
