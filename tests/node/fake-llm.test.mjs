// The fake LLM server itself (tests/fake-llm/server.mjs): formats, usage/cost, stats, errors,
// seeded faults, CORS, concurrency and CLI mode. No build needed; no network beyond 127.0.0.1.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startFakeLlm } from '../fake-llm/server.mjs';

const SERVER = fileURLToPath(new URL('../fake-llm/server.mjs', import.meta.url));
const servers = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function start(opts) {
  const srv = await startFakeLlm({ port: 0, ...opts });
  servers.push(srv);
  return srv;
}

function chat(srv, body, headers = {}) {
  return fetch(`${srv.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const req = (user, system = 'You are an actor.', model = 'openai/gpt-4o-mini') => ({
  model, temperature: 0.7, max_tokens: 500, seed: 3,
  messages: [{ role: 'system', content: system }, { role: 'user', content: user }],
});

async function reply(srv, user, system) {
  const res = await chat(srv, req(user, system));
  assert.equal(res.status, 200);
  return (await res.json()).choices[0].message.content;
}

test('shape-aware replies follow the tags the prompt asks for', async () => {
  const srv = await start();
  const action = await reply(srv, 'Decide.\n**LONG-TERM GOALS:**\n**REASONING:**\n**ACTION:**');
  assert.match(action, /^\*\*LONG-TERM GOALS:\*\*\n- .+\n\n\*\*SHORT-TERM PRIORITIES:\*\*\n- .+\n\n\*\*REASONING:\*\*\n.+\n\n\*\*ACTION:\*\*\n.+$/);

  const world = await reply(srv, 'Actors did things.\n**ACTION:** x\nRespond with **UPDATED STATE:** ...');
  assert.match(world, /^\*\*UPDATED STATE:\*\*\n.+\n\n\*\*KEY CHANGES:\*\*\n(- .+\n){2}- .+\n\n\*\*CONSEQUENCES:\*\*\n- .+\n- .+$/);

  const bilateral = await reply(srv, 'Other actors:\n- us-gov (United States)\n- china\n\n**INITIATE_BILATERAL:** yes/no\n**TARGET_ACTOR:**\n**PROPOSED_MESSAGE:**\n**REASONING:**');
  assert.match(bilateral, /^\*\*INITIATE_BILATERAL:\*\* yes\n\*\*TARGET_ACTOR:\*\* us-gov\n\*\*PROPOSED_MESSAGE:\*\* .+\n\*\*REASONING:\*\* .+$/);
  assert.doesNotMatch(bilateral, /PROPOSE_COALITION/);
  const coalition = await reply(srv, 'Other actors: eu, uk\n**INITIATE_BILATERAL:**\n**PROPOSE_COALITION:**');
  assert.match(coalition, /\*\*TARGET_ACTOR:\*\* eu\n/);
  assert.match(coalition, /\*\*PROPOSE_COALITION:\*\* no\n\*\*REASONING:\*\* /);

  assert.match(await reply(srv, 'Coalition offer.\n**DECISION:** accept/reject\n**RESPONSE:**'), /^\*\*DECISION:\*\* accept\n\*\*RESPONSE:\*\* .+$/);
  assert.match(await reply(srv, 'Reply to the proposal.\n**RESPONSE:**'), /^\*\*RESPONSE:\*\* .+$/);
  assert.match(await reply(srv, 'Write to them.\n**MESSAGE:**'), /^\*\*MESSAGE:\*\* .+$/);
  assert.match(await reply(srv, 'State: **UPDATED STATE:** tension 4', 'You do metrics extraction.'), /^\d+$/);
  assert.match(await reply(srv, 'Check **ACTION:** consistency.\n**PASSED:**\n**ISSUES:**'), /^\*\*PASSED:\*\* Yes\n\*\*ISSUES:\*\*\n- None\n\*\*SEVERITY:\*\* low\n\*\*EXPLANATION:\*\* .+$/);
  const plain = await reply(srv, 'Tell me a story.');
  assert.doesNotMatch(plain, /\*\*/);
  assert.equal(await reply(srv, 'Tell me a story.'), plain, 'deterministic for the same body');
});

test('scripted and echo replies', async () => {
  const srv = await start({ script: ['first', { match: 'bravo', reply: 'B!' }, 'second'] });
  assert.equal(await reply(srv, 'alpha'), 'first');
  assert.equal(await reply(srv, 'say bravo now'), 'B!');
  assert.equal(await reply(srv, 'bravo again'), 'second', 'match entries are consumed');
  assert.match(await reply(srv, 'x **MESSAGE:**'), /^\*\*MESSAGE:\*\*/, 'falls back to shape-aware');
  srv.configure({ echo: true });
  assert.equal(await reply(srv, 'secret-prompt-123'), 'secret-prompt-123');
});

test('usage, cost and stats totals', async () => {
  const srv = await start({ costPerCall: 0.0001 });
  const body = req('x'.repeat(40), 's'.repeat(9));
  for (let i = 0; i < 3; i++) {
    const res = await chat(srv, body, { 'HTTP-Referer': 'https://example.test', 'X-Title': 'Scenario Lab' });
    const json = await res.json();
    assert.match(json.id, /^gen-\d+$/);
    assert.equal(json.object, 'chat.completion');
    assert.equal(json.model, 'openai/gpt-4o-mini');
    assert.equal(typeof json.created, 'number');
    assert.equal(json.choices[0].finish_reason, 'stop');
    assert.equal(json.usage.prompt_tokens, Math.ceil(49 / 4));
    assert.equal(json.usage.completion_tokens, Math.ceil(json.choices[0].message.content.length / 4));
    assert.equal(json.usage.total_tokens, json.usage.prompt_tokens + json.usage.completion_tokens);
    assert.equal(json.usage.cost, 0.0001);
  }
  await chat(srv, req('y', 'z', 'anthropic/claude-3-haiku'));
  let s = srv.stats();
  assert.equal(s.requests, 4);
  assert.equal(s.completions, 4);
  assert.deepEqual(s.byStatus, { 200: 4 });
  assert.equal(s.totalCost, 0.0004);
  assert.deepEqual(s.models, { 'openai/gpt-4o-mini': 3, 'anthropic/claude-3-haiku': 1 });
  assert.deepEqual(s.headers, { httpReferer: 3, xTitle: 3 });
  assert.equal(s.lastRequests.length, 4);
  assert.deepEqual(s.lastRequests[0], body);
  assert.equal(s.inFlight, 0);

  // 0.1 + 0.2 style drift does not creep in over many calls.
  srv.configure({ costPerCall: 0.1 });
  srv.reset();
  for (let i = 0; i < 3; i++) await chat(srv, req('a'));
  assert.equal(srv.stats().totalCost, 0.3);

  srv.configure({ costPerCall: null });
  const json = await (await chat(srv, req('a'))).json();
  assert.equal('cost' in json.usage, false);
  assert.equal(srv.stats().totalCost, 0.3);
});

test('400 for bad bodies, 401 for a bad key', async () => {
  const srv = await start();
  for (const bad of ['{not json', { messages: [{ role: 'user', content: 'x' }] }, { model: 'm', messages: [] },
    { model: 'm', messages: [{ role: 'user' }] }, { model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: '0.7' }]) {
    const res = await chat(srv, bad);
    assert.equal(res.status, 400, JSON.stringify(bad));
    const { error } = await res.json();
    assert.equal(typeof error.message, 'string');
    assert.equal(error.type, 'invalid_request_error');
    assert.ok(error.code);
  }
  srv.configure({ apiKey: 'sk-test-123' });
  for (const headers of [{}, { authorization: 'Bearer wrong' }]) {
    const res = await chat(srv, req('x'), headers);
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.message, 'invalid api key');
  }
  assert.equal((await chat(srv, req('x'), { authorization: 'Bearer sk-test-123' })).status, 200);
  const s = srv.stats();
  assert.deepEqual(s.byStatus, { 400: 5, 401: 2, 200: 1 });
  assert.doesNotMatch(JSON.stringify(s), /sk-test-123/);
});

test('429 with Retry-After at the configured, seeded rate', async () => {
  async function run(seed) {
    const srv = await start({ seed, retryAfterSeconds: 2, faults: { rate429: 0.3 } });
    const statuses = [];
    for (let i = 0; i < 200; i++) {
      const res = await chat(srv, req('x'));
      statuses.push(res.status);
      if (res.status === 429) {
        assert.equal(res.headers.get('retry-after'), '2');
        assert.equal((await res.json()).error.type, 'rate_limit_error');
      } else await res.arrayBuffer();
    }
    assert.equal(srv.stats().byStatus[429], statuses.filter((s) => s === 429).length);
    return statuses;
  }
  const a = await run(42);
  const n429 = a.filter((s) => s === 429).length;
  assert.ok(n429 > 35 && n429 < 85, `about 30% of 200, got ${n429}`);
  assert.deepEqual(await run(42), a, 'same seed, same faults');
  assert.notDeepEqual(await run(7), a);

  const every = await start({ faults: { rate429: { every: 3 } } });
  const seen = [];
  for (let i = 0; i < 6; i++) seen.push((await chat(every, req('x'))).status);
  assert.deepEqual(seen, [200, 200, 429, 200, 200, 429]);
});

test('5xx rotate, explicit request numbers', async () => {
  const srv = await start({ faults: { rate5xx: [1, 2, 3] } });
  const seen = [];
  for (let i = 0; i < 4; i++) seen.push((await chat(srv, req('x'))).status);
  assert.deepEqual(seen, [500, 502, 503, 200]);
});

test('a dropped connection surfaces as a fetch error', async () => {
  const srv = await start({ faults: { drop: [1] } });
  await assert.rejects(chat(srv, req('x')), TypeError);
  assert.equal((await chat(srv, req('x'))).status, 200);
  const s = srv.stats();
  assert.equal(s.faults.drop, 1);
  assert.equal(s.inFlight, 0);
});

test('malformed bodies: not JSON, then JSON without choices', async () => {
  const srv = await start({ faults: { malformed: 1 } });
  const first = await chat(srv, req('x'));
  assert.equal(first.status, 200);
  await assert.rejects(first.clone().json(), SyntaxError);
  const second = await (await chat(srv, req('x'))).json();
  assert.equal(second.choices, undefined);
  assert.equal(srv.stats().completions, 0);
});

test('hung requests are ended by close()', async () => {
  const srv = await startFakeLlm({ port: 0, faults: { hang: 1 } });
  const pending = chat(srv, req('x'));
  while (srv.stats().inFlight === 0) await new Promise((r) => setTimeout(r, 5));
  await srv.close();
  await assert.rejects(pending, TypeError);
});

test('CORS preflight and headers on every response', async () => {
  const srv = await start();
  const pre = await fetch(`${srv.url}/chat/completions`, {
    method: 'OPTIONS',
    headers: { origin: 'http://localhost:8080', 'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, http-referer, x-title' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.equal(pre.headers.get('access-control-allow-headers'), 'authorization, content-type, http-referer, x-title');
  assert.equal(pre.headers.get('access-control-allow-methods'), 'POST, GET, OPTIONS');
  for (const res of [await chat(srv, req('x')), await chat(srv, '{'), await fetch(`${srv.url}/models`)]) {
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-expose-headers'), 'retry-after');
    await res.arrayBuffer();
  }
});

test('GET /v1/models is OpenRouter-shaped and configurable', async () => {
  const srv = await start();
  const { data } = await (await fetch(`${srv.url}/models`)).json();
  assert.equal(data.length, 2);
  assert.deepEqual(data[0].pricing, { prompt: '0.000001', completion: '0.000002' });
  srv.configure({ models: ['a/x', { id: 'b/y', pricing: { prompt: '0.00001', completion: '0.00003' } }] });
  const again = (await (await fetch(`${srv.url}/models`)).json()).data;
  assert.deepEqual(again.map((m) => m.id), ['a/x', 'b/y']);
  assert.equal(again[1].pricing.completion, '0.00003');
});

test('peakInFlight counts 5 concurrent requests at 100 ms latency', async () => {
  const srv = await start({ latencyMs: 100 });
  const t0 = Date.now();
  const all = await Promise.all(Array.from({ length: 5 }, (_, i) => chat(srv, req(`q${i}`))));
  assert.ok(Date.now() - t0 >= 95);
  assert.deepEqual(all.map((r) => r.status), [200, 200, 200, 200, 200]);
  const s = srv.stats();
  assert.equal(s.peakInFlight, 5);
  assert.equal(s.inFlight, 0);
});

test('CLI prints its URL and serves the control API', async () => {
  const child = spawn(process.execPath, [SERVER, '--port', '0', '--latency-ms', '1', '--rate-429', 'every:2', '--retry-after-seconds', '3'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = await new Promise((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d) => { buf += d; if (buf.includes('\n')) resolve(buf.split('\n')); });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const { url, port } = JSON.parse(line);
    assert.equal(url, `http://127.0.0.1:${port}/v1`);
    const srv = { url };
    assert.equal((await chat(srv, req('x'))).status, 200);
    const limited = await chat(srv, req('x'));
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '3');
    const base = `http://127.0.0.1:${port}`;
    let s = await (await fetch(`${base}/_stats`)).json();
    assert.equal(s.requests, 2);
    assert.deepEqual(s.byStatus, { 200: 1, 429: 1 });
    assert.equal((await fetch(`${base}/_configure`, { method: 'POST', body: JSON.stringify({ faults: {}, echo: true }) })).status, 200);
    assert.equal((await fetch(`${base}/_reset`, { method: 'POST' })).status, 200);
    assert.equal((await (await chat(srv, req('echo me'))).json()).choices[0].message.content, 'echo me');
    s = await (await fetch(`${base}/_stats`)).json();
    assert.deepEqual([s.requests, s.completions], [1, 1]);
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
  }
  assert.equal(child.exitCode, 0);
});
