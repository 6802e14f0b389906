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

// ---- bad real servers: long replies, caps, slow models, prices by token ------------------

const ACTION_PROMPT = 'Decide.\n**LONG-TERM GOALS:**\n**REASONING:**\n**ACTION:**';
const WORLD_PROMPT = 'Actors did things.\n**ACTION:** x\nRespond with **UPDATED STATE:** ...';
const capped = (user, max, system) => ({ ...req(user, system), max_tokens: max });
async function completion(srv, body) {
  const res = await chat(srv, body);
  assert.equal(res.status, 200);
  const json = await res.json();
  return { content: json.choices[0].message.content, finish: json.choices[0].finish_reason, usage: json.usage };
}
const uncapped = (user, system) => { const b = req(user, system); delete b.max_tokens; return b; };

test('replyTokens pads each role to about that many tokens, keeping the format', async () => {
  const srv = await start({ replyTokens: 300 });
  const action = await completion(srv, uncapped(ACTION_PROMPT));
  assert.ok(Math.abs(action.usage.completion_tokens - 300) <= 5, `${action.usage.completion_tokens} tokens`);
  assert.equal(action.usage.completion_tokens, Math.ceil(action.content.length / 4));
  assert.equal(action.finish, 'stop');
  // Every tag is still there, in order, and the padding sits in the last section (ACTION).
  assert.match(action.content, /^\*\*LONG-TERM GOALS:\*\*\n- .+\n\n\*\*SHORT-TERM PRIORITIES:\*\*\n- .+\n\n\*\*REASONING:\*\*\n.+\n\n\*\*ACTION:\*\*\n[^*\d:]{600,}$/);
  const world = (await completion(srv, uncapped(WORLD_PROMPT))).content;
  assert.match(world, /^\*\*UPDATED STATE:\*\*\n.+\n\n\*\*KEY CHANGES:\*\*\n(- .+\n){2}- .+\n\n\*\*CONSEQUENCES:\*\*\n- .+\n- [^*\d:]{500,}$/);
  const metric = (await completion(srv, uncapped('State: **UPDATED STATE:** tension 4', 'You do metrics extraction.'))).content;
  assert.match(metric, /^\d+ [^\d]+$/, 'a metric answer still starts with its number and holds no other');
  const check = (await completion(srv, uncapped('Check **ACTION:** consistency.\n**PASSED:**\n**ISSUES:**'))).content;
  assert.match(check, /^\*\*PASSED:\*\* Yes\n\*\*ISSUES:\*\*\n- None\n\*\*SEVERITY:\*\* low\n\*\*EXPLANATION:\*\* [^*]{1000,}$/);
  assert.equal((await completion(srv, uncapped(ACTION_PROMPT))).content, action.content, 'deterministic');

  // By role: only the roles named are padded; a range draws per body, reproducibly.
  srv.configure({ replyTokens: { world: 200, communication: { min: 50, max: 120 } } });
  assert.ok(Math.abs((await completion(srv, uncapped(WORLD_PROMPT))).usage.completion_tokens - 200) <= 5);
  assert.ok((await completion(srv, uncapped(ACTION_PROMPT))).usage.completion_tokens < 120, 'actor not padded');
  const lengths = [];
  for (let i = 0; i < 12; i++) {
    const r = await completion(srv, uncapped(`Write to them, take ${i}.\n**MESSAGE:**`));
    assert.match(r.content, /^\*\*MESSAGE:\*\* [^*]+$/);
    lengths.push(r.usage.completion_tokens);
  }
  assert.ok(lengths.every((n) => n >= 45 && n <= 120), lengths.join(','));
  assert.ok(new Set(lengths).size > 3, `varied: ${lengths.join(',')}`);
  assert.equal((await completion(srv, uncapped('Write to them, take 3.\n**MESSAGE:**'))).usage.completion_tokens, lengths[3]);
  assert.deepEqual(srv.stats().calls.slice(0, 4).map((c) => c.role), ['actor', 'world', 'metric', 'check']);
  assert.equal(srv.stats().calls.at(-1).role, 'communication');

  // Scripted replies are not padded.
  srv.configure({ replyTokens: 300, script: ['short'] });
  assert.equal((await completion(srv, uncapped(ACTION_PROMPT))).content, 'short');
});

test('max_tokens cuts a reply with finish_reason length; ignoreMaxTokens does not', async () => {
  const srv = await start({ replyTokens: 400 });
  const cut = await completion(srv, capped(ACTION_PROMPT, 100));
  assert.equal(cut.finish, 'length');
  assert.equal(cut.usage.completion_tokens, 100);
  assert.equal(cut.content.length, 400);
  assert.match(cut.content, /\*\*ACTION:\*\*\n/, 'the tags before the cut are kept');
  const roomy = await completion(srv, capped(ACTION_PROMPT, 1000));
  assert.equal(roomy.finish, 'stop');
  assert.ok(roomy.usage.completion_tokens > 390 && roomy.usage.completion_tokens <= 400);
  // An unpadded reply longer than its cap is cut as well (a real server does the same).
  const tiny = await completion(srv, capped(WORLD_PROMPT, 5));
  assert.deepEqual([tiny.finish, tiny.usage.completion_tokens, tiny.content], ['length', 5, '**UPDATED STATE:**\nS']);

  srv.configure({ ignoreMaxTokens: true });
  const bad = await completion(srv, capped(ACTION_PROMPT, 100));
  assert.equal(bad.finish, 'stop');
  assert.ok(bad.usage.completion_tokens > 390, `${bad.usage.completion_tokens} tokens over a cap of 100`);
  const calls = srv.stats().calls;
  assert.deepEqual(calls.map((c) => c.maxTokens), [100, 1000, 5, 100]);
  assert.deepEqual(calls.map((c) => c.finishReason), ['length', 'stop', 'length', 'stop']);
  assert.ok(calls.every((c) => c.outcome === 'answered' && c.completionTokens > 0));
});

test('tokensPerSecond: the delay grows with the reply', async () => {
  const srv = await start({ latencyMs: 20, tokensPerSecond: 1000, replyTokens: { actor: 300 } });
  let t0 = Date.now();
  const long = await completion(srv, uncapped(ACTION_PROMPT));
  const longMs = Date.now() - t0;
  assert.ok(longMs >= 20 + long.usage.completion_tokens - 5, `${longMs} ms for ${long.usage.completion_tokens} tokens`);
  // A cap shortens the reply, and so the wait (what is generated is what is returned).
  t0 = Date.now();
  await completion(srv, capped(ACTION_PROMPT, 10));
  const cappedMs = Date.now() - t0;
  assert.ok(cappedMs < longMs, `${cappedMs} ms capped vs ${longMs} ms`);
});

test('pricePerMillion bills by tokens, flat or by model', async () => {
  const srv = await start({ costPerCall: 0.5, replyTokens: 200, pricePerMillion: { prompt: 3, completion: 15 } });
  const a = await completion(srv, uncapped(ACTION_PROMPT));
  const nano = Math.round(a.usage.prompt_tokens * 3e3 + a.usage.completion_tokens * 15e3);
  assert.equal(a.usage.cost, nano / 1e9);
  const b = await completion(srv, capped(ACTION_PROMPT, 20));
  assert.equal(b.usage.cost, Math.round(b.usage.prompt_tokens * 3e3 + 20 * 15e3) / 1e9, 'a cut reply costs less');
  assert.equal(srv.stats().totalCost, (nano + Math.round(b.usage.prompt_tokens * 3e3 + 20 * 15e3)) / 1e9);
  assert.deepEqual(srv.stats().calls.map((c) => c.cost), [a.usage.cost, b.usage.cost]);

  srv.configure({ pricePerMillion: { 'anthropic/claude-3-haiku': { prompt: 1, completion: 2 } } });
  const haiku = await (await chat(srv, { ...uncapped('x'), model: 'anthropic/claude-3-haiku' })).json();
  assert.equal(haiku.usage.cost, Math.round(haiku.usage.prompt_tokens * 1e3 + haiku.usage.completion_tokens * 2e3) / 1e9);
  assert.equal((await completion(srv, uncapped('x'))).usage.cost, 0.5, 'a model not in the map: costPerCall');
});

test('answered, aborted, peakInFlight and a record per request', async () => {
  const srv = await start({ latencyMs: 150 });
  const ctl = new AbortController();
  const aborted = fetch(`${srv.url}/chat/completions`, {
    method: 'POST', signal: ctl.signal, headers: { 'content-type': 'application/json' }, body: JSON.stringify(uncapped('abort me')),
  });
  const others = [chat(srv, req('a')), chat(srv, req('b')), chat(srv, req('c'))];
  while (srv.stats().inFlight < 4) await new Promise((r) => setTimeout(r, 5));
  ctl.abort();
  await assert.rejects(aborted, { name: 'AbortError' });
  for (const r of await Promise.all(others)) await r.arrayBuffer();
  while (srv.stats().inFlight > 0) await new Promise((r) => setTimeout(r, 5));
  const s = srv.stats();
  assert.equal(s.requests, 4);
  assert.equal(s.peakInFlight, 4);
  assert.equal(s.aborted, 1);
  assert.equal(s.answered, 3);
  assert.equal(s.completions, 3, 'the aborted request is never answered');
  assert.deepEqual(s.calls.map((c) => c.outcome), ['aborted', 'answered', 'answered', 'answered']);
  assert.deepEqual(s.calls.map((c) => c.maxTokens), [null, 500, 500, 500]);
  assert.ok(s.calls.every((c) => c.model === 'openai/gpt-4o-mini' && c.role === 'summary'));

  // Errors, faults and a drop by the server are neither answered nor aborted.
  srv.reset();
  srv.configure({ latencyMs: 0, faults: { drop: [2], rate429: [3] } });
  await (await chat(srv, '{bad')).arrayBuffer();
  await assert.rejects(chat(srv, req('x')), TypeError);
  await (await chat(srv, req('x'))).arrayBuffer();
  await (await chat(srv, req('x'))).arrayBuffer();
  while (srv.stats().inFlight > 0) await new Promise((r) => setTimeout(r, 5));
  const t = srv.stats();
  assert.deepEqual([t.requests, t.answered, t.aborted], [4, 1, 0]);
  assert.deepEqual(t.calls.map((c) => c.outcome), ['error', 'drop', 'rate429', 'answered']);
});

test('the new options from CLI flags and POST /_configure', async () => {
  const child = spawn(process.execPath, [SERVER, '--port', '0', '--reply-tokens', '200-300', '--ignore-max-tokens',
    '--tokens-per-second', '100000', '--price-per-million', '2,8'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d) => { buf += d; if (buf.includes('\n')) resolve(buf.split('\n')[0]); });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const { url, port } = JSON.parse(line);
    const srv = { url };
    const r = await completion(srv, capped(ACTION_PROMPT, 50));
    assert.ok(r.usage.completion_tokens >= 195 && r.usage.completion_tokens <= 300, `${r.usage.completion_tokens}`);
    assert.equal(r.finish, 'stop', 'ignores max_tokens');
    assert.equal(r.usage.cost, Math.round(r.usage.prompt_tokens * 2e3 + r.usage.completion_tokens * 8e3) / 1e9);
    const base = `http://127.0.0.1:${port}`;
    await fetch(`${base}/_configure`, { method: 'POST', body: JSON.stringify({ ignoreMaxTokens: false, replyTokens: { actor: 80 }, pricePerMillion: null }) });
    const again = await completion(srv, capped(ACTION_PROMPT, 50));
    assert.deepEqual([again.finish, again.usage.completion_tokens, again.usage.cost], ['length', 50, 0.0001]);
    const s = await (await fetch(`${base}/_stats`)).json();
    assert.deepEqual([s.answered, s.aborted, s.calls.length], [2, 0, 2]);
    assert.deepEqual(s.calls.map((c) => c.maxTokens), [50, 50]);
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
  }
});
