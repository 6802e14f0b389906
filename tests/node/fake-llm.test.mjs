// The fake LLM server itself (tests/fake-llm/server.mjs): formats, usage/cost, stats, errors,
// seeded faults, CORS, concurrency and CLI mode; OpenAI's Batch + Files API, OpenRouter's Batch
// API (also under /openrouter/v1), Anthropic's Message Batches, prefix-cache accounting and the
// batch stats. No build needed; no network beyond 127.0.0.1.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startFakeLlm, prefixStore } from '../fake-llm/server.mjs';

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
  assert.deepEqual([tiny.finish, tiny.usage.completion_tokens], ['length', 5]);
  assert.match(tiny.content, /^\*\*UPDATED STATE:\*\*\n[A-Z]$/, 'cut at 20 characters');

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

// ---- batch APIs and the prefix cache -----------------------------------------------------

const root = (srv) => srv.url.replace(/\/v1$/, '');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const jsonl = (text) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
const line = (id, body) => ({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body });
const BEARER = (key) => ({ authorization: `Bearer ${key}` });

function upload(srv, lines, headers = {}, purpose = 'batch') {
  const form = new FormData();
  form.append('purpose', purpose);
  const text = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');
  form.append('file', new Blob([`${text}\n`], { type: 'application/jsonl' }), 'input.jsonl');
  return fetch(`${srv.url}/files`, { method: 'POST', body: form, headers });
}

async function call(url, { method = 'GET', body, headers = {}, status = 200, text = false } = {}) {
  const res = await fetch(url, {
    method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(res.status, status, `${method} ${url}`);
  return text ? res.text() : res.json();
}

// Upload `lines`, create a batch on them, and return it (as created).
async function submit(srv, lines, headers = {}, extra = {}) {
  const res = await upload(srv, lines, headers);
  assert.equal(res.status, 200);
  const file = await res.json();
  return call(`${srv.url}/batches`, { method: 'POST', headers,
    body: { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', ...extra } });
}

async function poll(get, done, timeoutMs = 5000) {
  const seen = [];
  const t0 = Date.now();
  for (;;) {
    const b = await get();
    seen.push(b.status ?? b.processing_status);
    if (done(b)) return { batch: b, seen };
    if (Date.now() - t0 > timeoutMs) throw new Error(`not done after ${timeoutMs} ms: ${JSON.stringify(b)}`);
    await sleep(5);
  }
}
const ENDED = ['completed', 'failed', 'expired', 'cancelled'];
const pollOpenAi = (srv, id, headers = {}) => poll(() => call(`${srv.url}/batches/${id}`, { headers }), (b) => ENDED.includes(b.status));
const fileLines = async (srv, id, headers = {}) => (id ? jsonl(await call(`${srv.url}/files/${id}/content`, { headers, text: true })) : []);

const BATCH_BODIES = {
  act: { ...uncapped(ACTION_PROMPT), max_tokens: 800 },
  world: capped(WORLD_PROMPT, 12),
  msg: uncapped('Write to them.\n**MESSAGE:**'),
  metric: uncapped('State: **UPDATED STATE:** tension 4', 'You do metrics extraction.'),
};

test('OpenAI batch: upload, create, poll, download; replies equal the realtime ones', async () => {
  const KEY = 'sk-batch';
  const auth = BEARER(KEY);
  const srv = await start({ apiKey: KEY, batchDelayMs: 80, replyTokens: { actor: 120 } });
  assert.equal((await upload(srv, [line('x', BATCH_BODIES.msg)])).status, 401, 'batch routes need the key');
  assert.equal((await fetch(`${srv.url}/batches`)).status, 401);

  const lines = Object.entries(BATCH_BODIES).map(([id, body]) => line(id, body));
  const res = await upload(srv, lines, auth);
  assert.equal(res.status, 200);
  const file = await res.json();
  const text = `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
  assert.match(file.id, /^file-/);
  assert.equal(typeof file.created_at, 'number');
  assert.deepEqual({ ...file, id: 0, created_at: 0 },
    { id: 0, object: 'file', bytes: Buffer.byteLength(text), created_at: 0, filename: 'input.jsonl', purpose: 'batch' });
  assert.deepEqual(await call(`${srv.url}/files/${file.id}`, { headers: auth }), file);
  const content = await fetch(`${srv.url}/files/${file.id}/content`, { headers: auth });
  assert.match(content.headers.get('content-type'), /jsonl|text\/plain/);
  assert.equal(await content.text(), text);

  const t0 = Date.now();
  const created = await call(`${srv.url}/batches`, { method: 'POST', headers: auth, body: {
    input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { run: 'r1' } } });
  assert.match(created.id, /^batch_/);
  assert.deepEqual(Object.keys(created).sort(), ['cancelled_at', 'cancelling_at', 'completed_at', 'completion_window', 'created_at',
    'endpoint', 'error_file_id', 'errors', 'expired_at', 'expires_at', 'failed_at', 'finalizing_at', 'id', 'in_progress_at',
    'input_file_id', 'metadata', 'object', 'output_file_id', 'request_counts', 'status']);
  assert.deepEqual([created.object, created.status, created.endpoint, created.input_file_id, created.completion_window],
    ['batch', 'validating', '/v1/chat/completions', file.id, '24h']);
  assert.deepEqual(created.request_counts, { total: 4, completed: 0, failed: 0 });
  assert.deepEqual(created.metadata, { run: 'r1' });
  assert.equal(created.expires_at, created.created_at + 86400);
  assert.deepEqual([created.output_file_id, created.error_file_id, created.errors, created.completed_at], [null, null, null, null]);

  const { batch, seen } = await pollOpenAi(srv, created.id, auth);
  assert.ok(Date.now() - t0 >= 75, 'ends after batchDelayMs');
  assert.ok(seen.includes('in_progress'), seen.join(','));
  assert.equal(batch.status, 'completed');
  assert.deepEqual(batch.request_counts, { total: 4, completed: 4, failed: 0 });
  assert.ok(batch.in_progress_at && batch.completed_at && batch.finalizing_at);
  assert.equal(batch.error_file_id, null);
  const out = await fileLines(srv, batch.output_file_id, auth);
  assert.equal(out.length, 4);
  assert.deepEqual(out.map((l) => l.custom_id).sort(), ['act', 'metric', 'msg', 'world']);
  const outFile = await call(`${srv.url}/files/${batch.output_file_id}`, { headers: auth });
  assert.equal(outFile.purpose, 'batch_output');

  for (const l of out) {
    assert.match(l.id, /^batch_req_/);
    assert.equal(l.error, null);
    assert.equal(l.response.status_code, 200);
    assert.equal(typeof l.response.request_id, 'string');
    const b = l.response.body;
    assert.deepEqual([b.object, b.model], ['chat.completion', 'openai/gpt-4o-mini']);
    assert.equal('cost' in b.usage, false, 'batch outputs carry no cost by default');
    // The same body realtime, serialised differently (keys reordered, pretty-printed).
    const body = BATCH_BODIES[l.custom_id];
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const rt = await (await chat(srv, JSON.stringify(reordered, null, 2), auth)).json();
    assert.equal(rt.choices[0].message.content, b.choices[0].message.content, l.custom_id);
    assert.equal(rt.choices[0].finish_reason, b.choices[0].finish_reason);
    assert.deepEqual({ ...rt.usage, cost: undefined }, { ...b.usage, cost: undefined });
  }
  const world = out.find((l) => l.custom_id === 'world').response.body;
  assert.deepEqual([world.choices[0].finish_reason, world.usage.completion_tokens], ['length', 12], 'max_tokens honoured');
  assert.ok(out.find((l) => l.custom_id === 'act').response.body.usage.completion_tokens >= 115, 'replyTokens applies');

  const s = srv.stats();
  assert.equal(s.requests, 4, 'batch requests are not realtime requests');
  assert.deepEqual(s.batches, { filesUploaded: 1, jobsCreated: 1, requestsSubmitted: 4, duplicateRequests: 0,
    jobsById: { [batch.id]: { api: 'openai', status: 'completed', total: 4, completed: 4, failed: 0, createdAt: s.batches.jobsById[batch.id].createdAt } } });
  assert.ok(Math.abs(s.batches.jobsById[batch.id].createdAt - t0) < 1000);
  assert.equal(s.cache.requests, 8, '4 batch + 4 realtime');

  // batchCostFactor: cost = the realtime cost x the factor.
  srv.configure({ batchCostFactor: 0.5, pricePerMillion: { prompt: 2, completion: 8 }, batchDelayMs: 10 });
  const priced = await pollOpenAi(srv, (await submit(srv, [line('msg', BATCH_BODIES.msg)], auth)).id, auth);
  const [pl] = await fileLines(srv, priced.batch.output_file_id, auth);
  const rtCost = (await (await chat(srv, BATCH_BODIES.msg, auth)).json()).usage.cost;
  assert.ok(rtCost > 0);
  assert.equal(pl.response.body.usage.cost, Math.round(rtCost * 1e9 * 0.5) / 1e9);
});

test('OpenAI batch: bad files are 400, unknown ids 404, a file of two models fails the batch', async () => {
  const srv = await start({ batchDelayMs: 20 });
  const ok = line('a', BATCH_BODIES.msg);
  for (const bad of [['{not json'], [ok, { ...ok }], [{ ...ok, url: '/v1/embeddings' }], [{ ...ok, method: 'GET' }],
    [{ ...ok, custom_id: '' }], [{ ...ok, body: 'x' }], ['']]) {
    const res = await upload(srv, bad);
    assert.equal(res.status, 400, JSON.stringify(bad));
    assert.equal(typeof (await res.json()).error.message, 'string');
  }
  const dup = await (await upload(srv, [ok, ok])).json();
  assert.match(dup.error.message, /duplicate custom_id "a"/);
  assert.equal((await upload(srv, [ok], {}, 'fine-tune')).status, 400);
  assert.equal((await fetch(`${srv.url}/files`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 400);
  assert.equal(srv.stats().batches.filesUploaded, 0);

  // Hand-written multipart bodies, CRLF and bare LF.
  for (const eol of ['\r\n', '\n']) {
    const b = 'XyZ-boundary';
    const body = [`--${b}`, 'Content-Disposition: form-data; name="purpose"', '', 'batch',
      `--${b}`, 'Content-Disposition: form-data; name="file"; filename="my.jsonl"', 'Content-Type: application/jsonl', '',
      JSON.stringify(ok), JSON.stringify(line('b', BATCH_BODIES.metric)), `--${b}--`, ''].join(eol);
    const res = await fetch(`${srv.url}/files`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary="${b}"` }, body });
    assert.equal(res.status, 200, JSON.stringify(eol));
    const f = await res.json();
    assert.equal(f.filename, 'my.jsonl');
    assert.equal(await call(`${srv.url}/files/${f.id}/content`, { text: true }), `${JSON.stringify(ok)}${eol}${JSON.stringify(line('b', BATCH_BODIES.metric))}`);
  }

  const f = await (await upload(srv, [ok])).json();
  const create = (body, status) => call(`${srv.url}/batches`, { method: 'POST', body, status });
  const good = { input_file_id: f.id, endpoint: '/v1/chat/completions', completion_window: '24h' };
  assert.equal((await create({ ...good, input_file_id: 'file-nope' }, 404)).error.param, 'input_file_id');
  await create({ ...good, endpoint: '/v1/embeddings' }, 400);
  await create({ ...good, completion_window: '1h' }, 400);
  await call(`${srv.url}/batches/batch_nope`, { status: 404 });
  await call(`${srv.url}/files/file-nope`, { status: 404 });
  assert.deepEqual(await call(`${srv.url}/files/${f.id}`, { method: 'DELETE' }), { id: f.id, object: 'file', deleted: true });
  await call(`${srv.url}/files/${f.id}`, { status: 404 });

  const mixed = await submit(srv, [ok, line('b', { ...BATCH_BODIES.msg, model: 'openai/gpt-4o' })]);
  const { batch } = await pollOpenAi(srv, mixed.id);
  assert.equal(batch.status, 'failed');
  assert.ok(batch.failed_at);
  assert.deepEqual([batch.errors.object, batch.errors.data[0].code, batch.errors.data[0].line], ['list', 'model_mismatch', 2]);
  assert.deepEqual([batch.output_file_id, batch.error_file_id], [null, null]);
});

test('OpenAI batch: failed requests in the error file, seeded; output order shuffled', async () => {
  const lines = Array.from({ length: 40 }, (_, i) => line(`r${i}`, uncapped(`Write to them, take ${i}.\n**MESSAGE:**`)));
  lines.push(line('bad', { model: 'openai/gpt-4o-mini', messages: [] }));
  async function run(batchFail) {
    const srv = await start({ batchDelayMs: 10, seed: 5, batchFail });
    const { batch } = await pollOpenAi(srv, (await submit(srv, lines)).id);
    const out = await fileLines(srv, batch.output_file_id);
    const errors = await fileLines(srv, batch.error_file_id);
    assert.equal(batch.status, 'completed');
    assert.deepEqual(batch.request_counts, { total: 41, completed: out.length, failed: errors.length });
    assert.equal(out.length + errors.length, 41);
    const bad = errors.find((l) => l.custom_id === 'bad');
    assert.equal(bad.response.status_code, 400);
    assert.equal(bad.response.body.error.type, 'invalid_request_error');
    for (const l of errors.filter((e) => e.custom_id !== 'bad')) {
      assert.match(l.id, /^batch_req_/);
      assert.equal(l.error, null);
      assert.equal(l.response.status_code, 500);
      assert.equal(typeof l.response.request_id, 'string');
      assert.equal(l.response.body.error.type, 'server_error');
      assert.equal(typeof l.response.body.error.message, 'string');
    }
    const s = srv.stats().batches.jobsById[batch.id];
    assert.deepEqual([s.completed, s.failed], [out.length, errors.length]);
    return { out: out.map((l) => l.custom_id), failed: errors.map((l) => l.custom_id).filter((id) => id !== 'bad').sort() };
  }
  const listed = await run(['r3', 'r7']);
  assert.deepEqual(listed.failed, ['r3', 'r7']);
  assert.notDeepEqual(listed.out, lines.map((l) => l.custom_id).filter((id) => !['r3', 'r7', 'bad'].includes(id)), 'shuffled');
  const a = await run(0.3);
  assert.ok(a.failed.length > 4 && a.failed.length < 22, `about 30% of 40, got ${a.failed.length}`);
  assert.deepEqual(await run(0.3), a, 'same seed, same failures, same order');
});

test('OpenAI batch: expiry leaves a partial output', async () => {
  const srv = await start({ batchDelayMs: 10_000, batchExpire: { after_ms: 60, share: 0.3 } });
  const lines = Array.from({ length: 10 }, (_, i) => line(`e${i}`, uncapped(`Tell story ${i}.`)));
  const { batch } = await pollOpenAi(srv, (await submit(srv, lines)).id);
  assert.equal(batch.status, 'expired');
  assert.ok(batch.expired_at);
  assert.equal(batch.completed_at, null);
  assert.deepEqual(batch.request_counts, { total: 10, completed: 3, failed: 7 });
  const out = await fileLines(srv, batch.output_file_id);
  const errors = await fileLines(srv, batch.error_file_id);
  assert.equal(out.length, 3);
  assert.equal(errors.length, 7);
  for (const l of errors) {
    assert.deepEqual({ ...l, id: 0, custom_id: 0 }, { id: 0, custom_id: 0, response: null,
      error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } });
  }
  assert.deepEqual([...out, ...errors].map((l) => l.custom_id).sort(), lines.map((l) => l.custom_id).sort());
  assert.equal(srv.stats().batches.jobsById[batch.id].status, 'expired');
});

test('OpenAI batch: cancel mid-way (batchProgress) keeps what is done; list pages newest first', async () => {
  const srv = await start({ batchDelayMs: 600, batchProgress: true });
  const lines = Array.from({ length: 10 }, (_, i) => line(`c${i}`, uncapped(`Tell story ${i}.`)));
  const created = await submit(srv, lines);
  let mid;
  do {
    await sleep(10);
    mid = await call(`${srv.url}/batches/${created.id}`);
  } while (mid.request_counts.completed < 2);
  assert.equal(mid.status, 'in_progress');
  assert.ok(mid.request_counts.completed < 10);
  const cancelling = await call(`${srv.url}/batches/${created.id}/cancel`, { method: 'POST' });
  assert.equal(cancelling.status, 'cancelling');
  assert.ok(cancelling.cancelling_at);
  const { batch, seen } = await pollOpenAi(srv, created.id);
  assert.equal(batch.status, 'cancelled');
  assert.ok(seen.includes('cancelling') || seen.length === 1);
  assert.ok(batch.cancelled_at);
  const out = await fileLines(srv, batch.output_file_id);
  const errors = await fileLines(srv, batch.error_file_id);
  assert.ok(out.length >= 2 && out.length < 10, `${out.length} done before the cancel`);
  assert.deepEqual(batch.request_counts, { total: 10, completed: out.length, failed: 10 - out.length });
  assert.ok(errors.every((l) => l.response === null && l.error.code === 'batch_cancelled' && typeof l.error.message === 'string'));
  assert.equal(errors.length, 10 - out.length);
  assert.match((await call(`${srv.url}/batches/${created.id}/cancel`, { method: 'POST', status: 400 })).error.message, /cancelled/);

  srv.configure({ batchDelayMs: 5, batchProgress: false });
  const b2 = await submit(srv, [lines[0]]);
  const b3 = await submit(srv, [lines[1]]);
  const p1 = await call(`${srv.url}/batches?limit=2`);
  assert.deepEqual([p1.object, p1.data.map((b) => b.id), p1.first_id, p1.last_id, p1.has_more],
    ['list', [b3.id, b2.id], b3.id, b2.id, true]);
  const p2 = await call(`${srv.url}/batches?limit=2&after=${b2.id}`);
  assert.deepEqual([p2.data.map((b) => b.id), p2.has_more], [[created.id], false]);
});

test('batchApi: false answers 404 Not found on every batch and files route, as llama-server does', async () => {
  const srv = await start({ batchApi: false });
  for (const [method, path] of [['POST', '/v1/files'], ['GET', '/v1/files/file-x/content'], ['POST', '/v1/batches'],
    ['GET', '/v1/batches'], ['GET', '/v1/batches/batch_x'], ['POST', '/v1/batches/batch_x/cancel'],
    ['POST', '/anthropic/v1/messages/batches'], ['GET', '/anthropic/v1/messages/batches/msgbatch_x/results']]) {
    const res = await fetch(`${root(srv)}${path}`, { method, body: method === 'POST' ? '{}' : undefined });
    assert.equal(res.status, 404, `${method} ${path}`);
    assert.deepEqual(await res.json(), { error: { message: 'Not found' } });
  }
  assert.equal((await chat(srv, req('x'))).status, 200, 'chat still answers');
  srv.configure({ batchApi: true });
  assert.equal((await fetch(`${srv.url}/batches`)).status, 200);
});

// ---- Anthropic Message Batches ----

const AV = { 'anthropic-version': '2023-06-01' };
const anthropicBase = (srv) => `${root(srv)}/anthropic/v1/messages/batches`;
const pollAnthropic = (srv, id, headers = AV) => poll(() => call(`${anthropicBase(srv)}/${id}`, { headers }), (b) => b.processing_status === 'ended');
const anthropicResults = async (url, headers = AV) => jsonl(await call(url, { headers, text: true }));
const aReq = (id, user, extra = {}) => ({ custom_id: id, params: { model: 'claude-3-haiku', max_tokens: 500, messages: [{ role: 'user', content: user }], ...extra } });

test('Anthropic batch: create, poll, results; auth, custom_id rules, errored', async () => {
  const KEY = 'sk-ant';
  const H = { ...AV, 'x-api-key': KEY };
  const srv = await start({ apiKey: KEY, batchDelayMs: 60, batchFail: ['boom'] });
  const requests = [
    aReq('plain', 'Write to them.\n**MESSAGE:**', { system: 'You are an actor.', temperature: 0.5 }),
    aReq('blocks', [{ type: 'text', text: 'Decide.\n' }, { type: 'text', text: '**ACTION:**' }],
      { system: [{ type: 'text', text: 'You are ' }, { type: 'text', text: 'an actor.' }] }),
    aReq('short', WORLD_PROMPT, { max_tokens: 6 }),
    { custom_id: 'invalid', params: { model: 'claude-3-haiku', messages: [{ role: 'user', content: 'x' }] } },
    aReq('boom', 'x'),
  ];
  const post = (body, headers = H, status = 200) => call(anthropicBase(srv), { method: 'POST', body, headers, status });
  assert.equal((await post({ requests }, AV, 401)).error.type, 'authentication_error');
  assert.equal((await post({ requests }, { 'x-api-key': KEY }, 400)).error.type, 'invalid_request_error');
  for (const bad of [{ requests: [] }, { requests: [aReq('bad id!', 'x')] }, { requests: [aReq('a', 'x'), aReq('a', 'y')] },
    { requests: [aReq('x'.repeat(65), 'x')] }, { requests: [{ custom_id: 'a' }] }]) {
    const e = await post(bad, H, 400);
    assert.deepEqual([e.type, e.error.type], ['error', 'invalid_request_error'], JSON.stringify(bad));
  }

  const created = await post({ requests });
  assert.match(created.id, /^msgbatch_/);
  assert.deepEqual({ ...created, id: 0, created_at: 0, expires_at: 0 }, {
    id: 0, type: 'message_batch', processing_status: 'in_progress',
    request_counts: { processing: 5, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
    ended_at: null, created_at: 0, expires_at: 0, cancel_initiated_at: null, archived_at: null, results_url: null });
  assert.equal(Date.parse(created.expires_at) - Date.parse(created.created_at), 86400_000);
  assert.equal((await call(`${anthropicBase(srv)}/${created.id}/results`, { headers: H, status: 400 })).error.type, 'invalid_request_error');
  const { batch } = await pollAnthropic(srv, created.id, H);
  assert.equal(batch.results_url, `${root(srv)}/anthropic/v1/messages/batches/${created.id}/results`);
  assert.ok(Date.parse(batch.ended_at) >= Date.parse(created.created_at));
  assert.deepEqual(batch.request_counts, { processing: 0, succeeded: 3, errored: 2, canceled: 0, expired: 0 });
  await call(batch.results_url, { headers: AV, status: 401 });
  const results = Object.fromEntries((await anthropicResults(batch.results_url, H)).map((l) => [l.custom_id, l.result]));
  assert.deepEqual(Object.keys(results).sort(), ['blocks', 'boom', 'invalid', 'plain', 'short']);
  assert.deepEqual(results.boom, { type: 'errored', error: { type: 'error', error: { type: 'api_error', message: 'Internal server error' } } });
  assert.equal(results.invalid.type, 'errored');
  assert.equal(results.invalid.error.error.type, 'invalid_request_error');

  const m = results.plain.message;
  assert.match(m.id, /^msg_/);
  assert.deepEqual({ ...m, id: 0, content: 0, usage: 0 }, { id: 0, type: 'message', role: 'assistant', model: 'claude-3-haiku',
    content: 0, stop_reason: 'end_turn', stop_sequence: null, usage: 0 });
  assert.deepEqual(Object.keys(m.usage), ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens']);
  assert.match(m.content[0].text, /^\*\*MESSAGE:\*\* .+$/);
  assert.equal(m.content[0].type, 'text');
  assert.deepEqual([results.short.message.stop_reason, results.short.message.usage.output_tokens], ['max_tokens', 6]);
  assert.match(results.blocks.message.content[0].text, /\*\*ACTION:\*\*/);

  // The same request as a chat body, realtime through Anthropic's OpenAI-compatible endpoint.
  const compat = (body, headers) => fetch(`${root(srv)}/anthropic/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const asChat = { model: 'claude-3-haiku', max_tokens: 500, temperature: 0.5,
    messages: [{ role: 'system', content: 'You are an actor.' }, { role: 'user', content: 'Write to them.\n**MESSAGE:**' }] };
  const rt = await (await compat(asChat, { 'x-api-key': KEY })).json();
  assert.equal(rt.choices[0].message.content, m.content[0].text);
  assert.deepEqual([rt.usage.prompt_tokens, rt.usage.completion_tokens], [m.usage.input_tokens, m.usage.output_tokens]);
  assert.equal((await compat(asChat, BEARER(KEY))).status, 200, 'Bearer works as well');
  assert.equal((await compat(asChat, {})).status, 401);
  const blocksChat = { model: 'claude-3-haiku', max_tokens: 500,
    messages: [{ role: 'system', content: 'You are an actor.' }, { role: 'user', content: 'Decide.\n**ACTION:**' }] };
  assert.equal((await (await compat(blocksChat, { 'x-api-key': KEY })).json()).choices[0].message.content,
    results.blocks.message.content[0].text, 'text parts joined');

  const list = await call(`${anthropicBase(srv)}?limit=1`, { headers: H });
  assert.deepEqual([list.data.map((b) => b.id), list.has_more, list.first_id, list.last_id], [[created.id], false, created.id, created.id]);
  const s = srv.stats().batches;
  assert.deepEqual(s.jobsById[created.id], { api: 'anthropic', status: 'ended', total: 5, completed: 3, failed: 2,
    createdAt: s.jobsById[created.id].createdAt });
});

test('Anthropic batch: expired and canceled requests', async () => {
  const srv = await start({ batchDelayMs: 10_000, batchExpire: { after_ms: 50, share: 0.5 } });
  const requests = Array.from({ length: 6 }, (_, i) => aReq(`q${i}`, `Tell story ${i}.`));
  const exp = await call(anthropicBase(srv), { method: 'POST', body: { requests }, headers: AV });
  const { batch } = await pollAnthropic(srv, exp.id);
  assert.deepEqual(batch.request_counts, { processing: 0, succeeded: 3, errored: 0, canceled: 0, expired: 3 });
  const results = await anthropicResults(batch.results_url);
  assert.deepEqual(results.filter((l) => l.result.type === 'expired').map((l) => l.result), [{ type: 'expired' }, { type: 'expired' }, { type: 'expired' }]);
  assert.equal(results.filter((l) => l.result.type === 'succeeded').length, 3);

  srv.configure({ batchExpire: null, batchDelayMs: 500 });
  const c = await call(anthropicBase(srv), { method: 'POST', body: { requests }, headers: AV });
  const canceling = await call(`${anthropicBase(srv)}/${c.id}/cancel`, { method: 'POST', headers: AV });
  assert.equal(canceling.processing_status, 'canceling');
  assert.ok(canceling.cancel_initiated_at);
  const ended = (await pollAnthropic(srv, c.id)).batch;
  assert.deepEqual(ended.request_counts, { processing: 0, succeeded: 0, errored: 0, canceled: 6, expired: 0 });
  assert.ok((await anthropicResults(ended.results_url)).every((l) => l.result.type === 'canceled'));
  assert.equal((await call(`${anthropicBase(srv)}/${c.id}/cancel`, { method: 'POST', headers: AV })).processing_status, 'ended');
  await call(`${anthropicBase(srv)}/msgbatch_nope`, { headers: AV, status: 404 });
});

test('Anthropic batch: cache_control accounting', async () => {
  const srv = await start({ batchDelayMs: 5 });
  const BIG = 'The council weighs the ride-share permit with care. '.repeat(120).slice(0, 6000);
  const cached = (question, extra = {}) => aReq(question.replace(/\W/g, '') || 'more', question,
    { system: [{ type: 'text', text: BIG, cache_control: { type: 'ephemeral' } }], ...extra });
  async function one(request) {
    const b = await call(anthropicBase(srv), { method: 'POST', body: { requests: [request] }, headers: AV });
    const [r] = await anthropicResults((await pollAnthropic(srv, b.id)).batch.results_url);
    assert.equal(r.result.type, 'succeeded');
    return r.result.message.usage;
  }
  const total = (u) => u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens;
  const first = await one(cached('Question one?'));
  const prompt = Math.ceil((6000 + 'Question one?'.length) / 4);
  assert.equal(total(first), prompt);
  assert.equal(first.cache_read_input_tokens, 0);
  assert.equal(first.cache_creation_input_tokens, 6000 / 4, 'the system block is written');
  assert.equal(first.input_tokens, Math.ceil(6013 / 4) - 1500, 'what follows the breakpoint');
  const second = await one(cached('Question two?'));
  assert.deepEqual([second.cache_read_input_tokens, second.cache_creation_input_tokens], [first.cache_creation_input_tokens, 0]);
  assert.equal(total(second), prompt);

  // No breakpoint: nothing read or created, even with the prefix cached.
  const plain = await one(aReq('plain', 'Question three?', { system: BIG }));
  assert.deepEqual([plain.cache_read_input_tokens, plain.cache_creation_input_tokens], [0, 0]);
  assert.equal(plain.input_tokens, Math.ceil((6000 + 15) / 4));
  // A breakpoint on a part below minTokens: nothing.
  const small = await one(aReq('small', [{ type: 'text', text: 'short', cache_control: { type: 'ephemeral' } }]));
  assert.deepEqual([small.cache_read_input_tokens, small.cache_creation_input_tokens], [0, 0]);
  // A second breakpoint further on: the cached system part is read, the rest written.
  const more = await one(cached('', { messages: [{ role: 'user', content: [
    { type: 'text', text: 'x'.repeat(4000), cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'And then?' }] }] }));
  assert.deepEqual([more.cache_read_input_tokens, more.cache_creation_input_tokens, more.input_tokens], [1500, 1000, 3]);
  assert.equal(total(more), Math.ceil((6000 + 4000 + 9) / 4));
  // Five breakpoints: errored, as Anthropic answers.
  const five = await call(anthropicBase(srv), { method: 'POST', headers: AV, body: { requests: [aReq('five',
    Array.from({ length: 5 }, () => ({ type: 'text', text: 'y', cache_control: { type: 'ephemeral' } })))] } });
  const [r5] = await anthropicResults((await pollAnthropic(srv, five.id)).batch.results_url);
  assert.match(r5.result.error.error.message, /maximum of 4 blocks/);

  const s = srv.stats().cache;
  assert.equal(s.requests, 5);
  assert.equal(s.cachedTokens, second.cache_read_input_tokens + more.cache_read_input_tokens);
  srv.configure({ promptCache: false });
  const off = await one(cached('Question four?'));
  assert.deepEqual([off.cache_read_input_tokens, off.cache_creation_input_tokens], [0, 0]);
});

// ---- prefix cache, realtime ----

const PREFIX = 'Background: the city council and the ride-share firm negotiate. '.repeat(100).slice(0, 6000);
const withPrefix = (user, model) => ({ model: model ?? 'openai/gpt-4o-mini', max_tokens: 50,
  messages: [{ role: 'system', content: PREFIX }, { role: 'user', content: user }] });

test('prefix cache: cached_tokens in 128-token steps from 1024, billed at cacheReadFactor', async () => {
  const srv = await start({ pricePerMillion: { prompt: 2, completion: 8 } });
  const first = await completion(srv, withPrefix('Question one?'));
  assert.deepEqual(first.usage.prompt_tokens_details, { cached_tokens: 0 });
  const second = await completion(srv, withPrefix('Question two?'));
  const cachedTokens = second.usage.prompt_tokens_details.cached_tokens;
  assert.ok(cachedTokens >= 1024 && cachedTokens % 128 === 0 && cachedTokens <= second.usage.prompt_tokens, `${cachedTokens}`);
  assert.equal(cachedTokens, 1408, 'the 6,000 shared characters are 1500 tokens -> 1024 + 3 x 128');
  assert.equal(second.usage.prompt_tokens, Math.ceil(6013 / 4), 'prompt_tokens stays the total');
  const nano = (u, factor) => Math.round((u.prompt_tokens - cachedTokens + cachedTokens * factor) * 2e3 + u.completion_tokens * 8e3);
  assert.equal(second.usage.cost, nano(second.usage, 0.5) / 1e9);
  assert.deepEqual((await completion(srv, capped('short question', 50))).usage.prompt_tokens_details, { cached_tokens: 0 });
  assert.equal((await completion(srv, withPrefix('Question one?', 'anthropic/claude-3-haiku'))).usage.prompt_tokens_details.cached_tokens, 0,
    'per model');
  srv.configure({ cacheReadFactor: 0.1 });
  const third = await completion(srv, withPrefix('Question three?'));
  assert.equal(third.usage.prompt_tokens_details.cached_tokens, 1408);
  assert.equal(third.usage.cost, nano(third.usage, 0.1) / 1e9);
  // Content parts are accepted and joined: the same prompt text.
  const parts = withPrefix('Question four?');
  parts.messages[0].content = [{ type: 'text', text: PREFIX.slice(0, 3000) }, { type: 'text', text: PREFIX.slice(3000) }];
  assert.equal((await completion(srv, parts)).usage.prompt_tokens_details.cached_tokens, 1408);

  const s = srv.stats();
  assert.deepEqual(s.calls.map((c) => c.cachedTokens), [0, 1408, 0, 0, 1408, 1408]);
  assert.deepEqual(s.cache, { requests: 6, promptTokens: s.calls.reduce((a, c) => a + c.promptTokens, 0), cachedTokens: 3 * 1408 });

  srv.configure({ promptCache: { minTokens: 256, blockTokens: 64 } });
  const small = { ...capped('a question', 20), messages: [{ role: 'system', content: PREFIX.slice(0, 1500) }, { role: 'user', content: 'q1' }] };
  await completion(srv, small);
  const got = (await completion(srv, { ...small, messages: [small.messages[0], { role: 'user', content: 'q2' }] })).usage.prompt_tokens_details.cached_tokens;
  assert.ok(got >= 256 && got % 64 === 0, `${got}`);
  srv.configure({ promptCache: false });
  const off = await completion(srv, withPrefix('Question one?'));
  assert.equal('prompt_tokens_details' in off.usage, false);
  srv.reset();
  srv.configure({ promptCache: { minTokens: 1024, blockTokens: 128 } });
  assert.equal((await completion(srv, withPrefix('Question one?'))).usage.prompt_tokens_details.cached_tokens, 0, 'reset empties the cache');
});

test('prefix cache: batch requests share it, in processing order', async () => {
  const srv = await start({ batchDelayMs: 10 });
  const lines = ['a', 'b', 'c', 'd'].map((id) => line(id, withPrefix(`Question ${id}?`)));
  const { batch } = await pollOpenAi(srv, (await submit(srv, lines)).id);
  const out = await fileLines(srv, batch.output_file_id);
  const cachedTokens = out.map((l) => l.response.body.usage.prompt_tokens_details.cached_tokens);
  assert.deepEqual(cachedTokens, [0, 1408, 1408, 1408], 'the first processed (first in the file) writes, the others read');
  assert.equal((await completion(srv, withPrefix('Question e?'))).usage.prompt_tokens_details.cached_tokens, 1408);
  assert.deepEqual(srv.stats().cache.cachedTokens, 4 * 1408);
});

// No clock (tests never assert on time): the store's own counters hold it to O(log n) string
// comparisons and two neighbour scans per prompt; a store that compared each prompt with every
// kept one (quadratic) would make about 20,000 x 4,096 scans and fail every bound.
test('prefix store: 20,000 prompts of 10 KB take a logarithmic number of comparisons each', () => {
  const store = prefixStore();
  const heads = Array.from({ length: 50 }, (_, i) => `head ${i} `.repeat(800).slice(0, 5000));
  const N = 20_000;
  let hits = 0;
  let chars = 0;
  for (let i = 0; i < N; i++) {
    const text = `${heads[i % 50]}${String(i).padStart(6, '0')}${'t'.repeat(4994)}`;
    chars += text.length;
    if (store.add('m', text) >= 5000) hits++;
  }
  assert.equal(hits, N - 50);
  assert.equal(store.size(), 4096);
  const c = store.counters();
  // Two binary searches per add (its place, and the evicted prompt's) over at most 4,097 entries.
  const perSearch = Math.ceil(Math.log2(4096 + 2));
  assert.ok(c.compares <= N * 2 * perSearch, `${c.compares} string comparisons for ${N} prompts`);
  assert.ok(c.compares >= N, 'every add searches');
  assert.ok(c.prefixCalls <= 2 * N, `${c.prefixCalls} prefix scans for ${N} prompts`);
  assert.ok(c.prefixChars <= 2 * chars, `${c.prefixChars} characters scanned for ${chars} characters of prompts`);
  assert.ok(c.prefixChars >= hits * 5000, 'the scans are counted');
  assert.equal(store.longest('m', 'abc'), 0);
  assert.equal(store.longest('other', heads[0]), 0);
});

// ---- batch stats ----

test('batch stats: duplicateRequests counts bodies already paid for in an earlier job; reset clears', async () => {
  const srv = await start({ batchDelayMs: 5, batchFail: ['c1'] });
  const A = uncapped('Tell story A.');
  const B = uncapped('Tell story B.');
  const C = uncapped('Tell story C.');
  const D = uncapped('Tell story D.');
  const run = async (lines) => (await pollOpenAi(srv, (await submit(srv, lines)).id)).batch;
  await run([line('a1', A), line('b1', B), line('c1', C)]);
  assert.equal(srv.stats().batches.duplicateRequests, 0);
  // A again (another custom_id, keys reordered): paid twice; C failed the first time: not.
  const reordered = Object.fromEntries(Object.entries(A).reverse());
  const j2 = await run([line('a2', reordered), line('c2', C), line('d2', D), line('d3', { ...D })]);
  let s = srv.stats().batches;
  assert.equal(s.duplicateRequests, 1, 'within one job, a repeat is not counted');
  await run([line('a3', A), line('c3', C)]);
  // Anthropic: the same chat body, converted, counts as well.
  const ab = await call(anthropicBase(srv), { method: 'POST', headers: AV, body: { requests: [
    { custom_id: 'x', params: { model: 'openai/gpt-4o-mini', max_tokens: 500, messages: [{ role: 'user', content: 'Tell story B.' }] } }] } });
  await pollAnthropic(srv, ab.id);
  s = srv.stats().batches;
  assert.deepEqual([s.filesUploaded, s.jobsCreated, s.requestsSubmitted], [3, 4, 10]);
  assert.equal(s.duplicateRequests, 3 + 0, 'a3 (paid in job 1), c3 (paid in job 2), and not the Anthropic one (another body)');
  assert.equal(Object.keys(s.jobsById).length, 4);
  assert.equal(s.jobsById[j2.id].status, 'completed');

  srv.reset();
  assert.deepEqual(srv.stats().batches, { filesUploaded: 0, jobsCreated: 0, jobsById: {}, requestsSubmitted: 0, duplicateRequests: 0 });
  assert.equal((await call(`${srv.url}/batches/${j2.id}`)).status, 'completed', 'jobs still answer after a reset');
  assert.deepEqual(srv.stats().cache, { requests: 0, promptTokens: 0, cachedTokens: 0 });
});

test('batch options from the CLI and the control API', async () => {
  const child = spawn(process.execPath, [SERVER, '--port', '0', '--batch-delay-ms', '5', '--config', '{"batchFail":["f"]}'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line0 = await new Promise((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d) => { buf += d; if (buf.includes('\n')) resolve(buf.split('\n')[0]); });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const { url, port } = JSON.parse(line0);
    const srv = { url };
    const { batch } = await pollOpenAi(srv, (await submit(srv, [line('f', BATCH_BODIES.msg), line('g', BATCH_BODIES.metric)])).id);
    assert.deepEqual(batch.request_counts, { total: 2, completed: 1, failed: 1 });
    const base = `http://127.0.0.1:${port}`;
    let s = await (await fetch(`${base}/_stats`)).json();
    assert.deepEqual([s.batches.jobsCreated, s.batches.jobsById[batch.id].failed, s.cache.requests], [1, 1, 1]);
    await fetch(`${base}/_configure`, { method: 'POST', body: JSON.stringify({ batchApi: false }) });
    assert.equal((await fetch(`${url}/batches/${batch.id}`)).status, 404);
    await fetch(`${base}/_reset`, { method: 'POST' });
    s = await (await fetch(`${base}/_stats`)).json();
    assert.deepEqual(s.batches.jobsById, {});
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
  }
});

// ---- OpenRouter Batch API ----

const orReq = (id, body) => ({ custom_id: id, body });
// The create body as text, endpoint and model first (OpenRouter needs them before requests).
const orBody = (requests, extra = {}, model = 'openai/gpt-4o-mini') =>
  JSON.stringify({ endpoint: '/v1/chat/completions', model, ...extra, requests });
async function orCreate(srv, text, { status = 202, headers = {} } = {}) {
  const res = await fetch(`${srv.url}/batches`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: text });
  assert.equal(res.status, status, text.slice(0, 200));
  return res.json();
}
const pollOpenRouter = (srv, id, headers = {}) => poll(() => call(`${srv.url}/batches/${id}`, { headers }), (b) => ENDED.includes(b.status));
async function allResultPages(srv, id, limit, headers = {}) {
  const pages = [];
  let cursor = null;
  do {
    const q = new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) });
    const p = await call(`${srv.url}/batches/${id}/results?${q}`, { headers });
    pages.push(p);
    cursor = p.next_cursor;
  } while (cursor);
  return pages;
}
const noModel = (body) => { const b = { ...body }; delete b.model; return b; };

test('OpenRouter batch: create 202, poll, results inline and paginated; cost at half; replies equal the realtime ones', async () => {
  const KEY = 'sk-or';
  const auth = BEARER(KEY);
  const srv = await start({ apiKey: KEY, batchDelayMs: 80, pricePerMillion: { prompt: 2, completion: 8 } });
  const bodies = { ...BATCH_BODIES, bare: noModel(uncapped('Tell me a story.')) };
  const requests = Object.entries(bodies).map(([id, body]) => orReq(id, body));
  await orCreate(srv, orBody(requests), { status: 401 });

  const t0 = Date.now();
  const created = await orCreate(srv, orBody(requests, { completion_window: '24h', metadata: { run: 'r1' } }), { headers: auth });
  assert.match(created.id, /^batch_or_/);
  assert.deepEqual(Object.keys(created).sort(), ['completion_window', 'created_at', 'endpoint', 'error', 'finalized_at', 'id',
    'model', 'object', 'request_counts', 'results', 'status', 'usage']);
  assert.deepEqual({ ...created, id: 0, created_at: 0 }, { id: 0, object: 'batch', endpoint: '/v1/chat/completions',
    model: 'openai/gpt-4o-mini', status: 'validating', request_counts: { total: 5, completed: 0, failed: 0 }, results: [],
    error: null, usage: null, created_at: 0, finalized_at: null, completion_window: '24h' });
  assert.ok(Math.abs(created.created_at - t0 / 1000) < 2);
  await call(`${srv.url}/batches/${created.id}/results`, { headers: auth, status: 409 });

  const { batch, seen } = await pollOpenRouter(srv, created.id, auth);
  assert.ok(Date.now() - t0 >= 75, 'ends after batchDelayMs');
  assert.ok(seen.includes('in_progress'), seen.join(','));
  assert.equal(batch.status, 'completed');
  assert.ok(batch.finalized_at >= batch.created_at);
  assert.deepEqual(batch.request_counts, { total: 5, completed: 5, failed: 0 });
  assert.equal(batch.results.length, 5);
  assert.deepEqual(batch.results.map((r) => r.custom_id).sort(), Object.keys(bodies).sort());
  assert.notDeepEqual(batch.results.map((r) => r.custom_id), Object.keys(bodies), 'a shuffled order');
  const totals = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  for (const r of batch.results) {
    assert.deepEqual(Object.keys(r).sort(), ['custom_id', 'error', 'id', 'response']);
    assert.match(r.id, /^batch_req_/);
    assert.equal(r.error, null);
    assert.deepEqual(Object.keys(r.response).sort(), ['body', 'request_id', 'status_code']);
    assert.equal(r.response.status_code, 200);
    assert.equal(typeof r.response.request_id, 'string');
    const b = r.response.body;
    assert.deepEqual([b.object, b.model], ['chat.completion', 'openai/gpt-4o-mini']);
    for (const k of Object.keys(totals)) totals[k] += b.usage[k];
    // The same body realtime (with the batch model when the request left it out).
    const rt = await (await chat(srv, { model: 'openai/gpt-4o-mini', ...bodies[r.custom_id] }, auth)).json();
    assert.equal(rt.choices[0].message.content, b.choices[0].message.content, r.custom_id);
    assert.equal(rt.choices[0].finish_reason, b.choices[0].finish_reason);
    assert.deepEqual({ ...rt.usage, cost: undefined }, { ...b.usage, cost: undefined });
    assert.ok(rt.usage.cost > 0);
    assert.equal(b.usage.cost, Math.round(rt.usage.cost * 1e9 * 0.5) / 1e9, 'OpenRouter reports half the realtime cost');
  }
  assert.deepEqual(batch.usage, totals);
  const world = batch.results.find((r) => r.custom_id === 'world').response.body;
  assert.deepEqual([world.choices[0].finish_reason, world.usage.completion_tokens], ['length', 12], 'max_tokens honoured');

  // Paginated: limit 2 -> 3 pages; their concatenation is the inline list; stable across calls.
  const pages = await allResultPages(srv, batch.id, 2, auth);
  assert.deepEqual(pages.map((p) => p.data.length), [2, 2, 1]);
  assert.deepEqual(pages.map((p) => p.has_more), [true, true, false]);
  assert.deepEqual(pages.map((p) => p.object), ['list', 'list', 'list']);
  assert.equal(pages[2].next_cursor, null);
  assert.deepEqual(pages.flatMap((p) => p.data), batch.results);
  assert.deepEqual(await allResultPages(srv, batch.id, 2, auth), pages, 'stable');
  const all = await call(`${srv.url}/batches/${batch.id}/results`, { headers: auth });
  assert.deepEqual([all.data, all.next_cursor, all.has_more], [batch.results, null, false], 'default page size 100');
  assert.deepEqual(await call(`${srv.url}/batches/${batch.id}`, { headers: auth }), batch, 'the batch object is stable');
  assert.equal(typeof (await call(`${srv.url}/batches/${batch.id}/results?cursor=bm9wZQ`, { headers: auth, status: 400 })).error.message, 'string');

  // Listed with the OpenAI batches, results null; stats count it.
  const openai = await submit(srv, [line('x', BATCH_BODIES.msg)], auth);
  const list = await call(`${srv.url}/batches`, { headers: auth });
  assert.deepEqual(list.data.map((b) => b.id), [openai.id, batch.id]);
  assert.deepEqual(list.data[1], { ...batch, results: null });
  await call(`${srv.url}/batches/${openai.id}/results`, { headers: auth, status: 404 });
  const s = srv.stats();
  assert.deepEqual(s.batches.jobsById[batch.id], { api: 'openrouter', status: 'completed', total: 5, completed: 5, failed: 0,
    createdAt: s.batches.jobsById[batch.id].createdAt });
  assert.deepEqual([s.batches.jobsCreated, s.batches.requestsSubmitted, s.batches.filesUploaded], [2, 6, 1]);
  assert.equal(s.requests, 5, 'batch requests are not realtime requests');
  const billed = batch.results.reduce((sum, r) => sum + r.response.body.usage.cost * 1e9, 0);
  const realtime = batch.results.reduce((sum, r) => sum + Math.round(r.response.body.usage.cost * 1e9 / 0.5), 0);
  assert.ok(Math.abs(s.totalCost * 1e9 - billed - realtime) < 10, 'batch costs are in totalCost');

  // batchCostFactor overrides the half.
  srv.configure({ batchCostFactor: 0.25, batchDelayMs: 5 });
  const q = await pollOpenRouter(srv, (await orCreate(srv, orBody([orReq('m', BATCH_BODIES.msg)]), { headers: auth })).id, auth);
  const rtCost = (await (await chat(srv, BATCH_BODIES.msg, auth)).json()).usage.cost;
  assert.equal(q.batch.results[0].response.body.usage.cost, Math.round(rtCost * 1e9 * 0.25) / 1e9);
});

test('OpenRouter batch: 400 when requests come before endpoint and model, or a body names another model', async () => {
  const srv = await start({ batchDelayMs: 5 });
  const reqs = [orReq('a', BATCH_BODIES.msg), orReq('b', noModel(BATCH_BODIES.metric))];
  const E = '/v1/chat/completions';
  const M = 'openai/gpt-4o-mini';
  const raw = (...pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(',\n ')}}`;
  for (const text of [
    raw(['requests', reqs], ['endpoint', E], ['model', M]),
    raw(['endpoint', E], ['requests', reqs], ['model', M]),
    raw(['model', M], ['requests', reqs], ['endpoint', E]),
  ]) {
    const err = await orCreate(srv, text, { status: 400 });
    assert.deepEqual(Object.keys(err.error).sort(), ['code', 'message', 'metadata']);
    assert.equal(err.error.code, 400);
    assert.match(err.error.message, /before 'requests'/);
  }
  // Top-level order only: a nested or quoted "requests" earlier does not count.
  const ok = await orCreate(srv, raw(['metadata', { requests: 'x", "requests": [' }], ['model', M], ['endpoint', E],
    ['completion_window', '24h'], ['requests', reqs]));
  assert.equal(ok.status, 'validating');
  assert.equal((await orCreate(srv, JSON.stringify({ model: M, endpoint: E, requests: reqs }, null, 2))).status, 'validating');

  const mismatch = await orCreate(srv, orBody([...reqs, orReq('c', { ...BATCH_BODIES.msg, model: 'openai/gpt-4o' })]), { status: 400 });
  assert.match(mismatch.error.message, /requests\[2\]\.body\.model 'openai\/gpt-4o' does not match the batch model 'openai\/gpt-4o-mini'/);
  for (const text of [
    orBody([]), orBody('x'), orBody(reqs, {}, ''), orBody(reqs, {}, 7),
    JSON.stringify({ endpoint: '/v1/embeddings', model: M, requests: reqs }),
    orBody(reqs, { completion_window: '1h' }), orBody(reqs, { metadata: 'x' }),
    orBody([reqs[0], { ...reqs[1], custom_id: 'a' }]), orBody([{ ...reqs[0], custom_id: '' }]), orBody([{ custom_id: 'z', body: 'x' }]),
  ]) {
    assert.equal((await orCreate(srv, text, { status: 400 })).error.code, 400, text.slice(0, 120));
  }
  await call(`${srv.url}/batches/batch_or_nope`, { status: 404 });
  await call(`${srv.url}/batches/batch_or_nope/results`, { status: 404 });
  assert.deepEqual(srv.stats().batches.jobsCreated, 2, 'only the accepted ones');
});

test('OpenRouter batch: failed requests and expiry as error results', async () => {
  const srv = await start({ batchDelayMs: 10, batchFail: ['f1', 'f2'] });
  const reqs = Array.from({ length: 6 }, (_, i) => orReq(i < 2 ? `f${i + 1}` : `r${i}`, uncapped(`Tell story ${i}.`)));
  reqs.push(orReq('bad', { messages: [] }));
  const { batch } = await pollOpenRouter(srv, (await orCreate(srv, orBody(reqs))).id);
  assert.equal(batch.status, 'completed');
  assert.deepEqual(batch.request_counts, { total: 7, completed: 4, failed: 3 });
  const byId = Object.fromEntries(batch.results.map((r) => [r.custom_id, r]));
  for (const id of ['f1', 'f2']) {
    assert.match(byId[id].id, /^batch_req_/);
    assert.equal(byId[id].response, null);
    assert.deepEqual({ ...byId[id].error, message: 0 }, { message: 0, type: 'server_error', param: null });
    assert.equal(typeof byId[id].error.message, 'string');
  }
  assert.deepEqual(byId.bad.error, { message: '`messages` must be a non-empty array', type: 'invalid_request_error', param: null });
  const ok = batch.results.filter((r) => r.response);
  assert.deepEqual(batch.usage.total_tokens, ok.reduce((s, r) => s + r.response.body.usage.total_tokens, 0), 'usage counts the succeeded');
  assert.deepEqual(srv.stats().batches.jobsById[batch.id].failed, 3);

  srv.configure({ batchFail: null, batchDelayMs: 10_000, batchExpire: { after_ms: 60, share: 0.5 } });
  const exp = await pollOpenRouter(srv, (await orCreate(srv, orBody(reqs.slice(0, 6)))).id);
  assert.equal(exp.batch.status, 'expired');
  assert.ok(exp.batch.finalized_at);
  assert.deepEqual(exp.batch.request_counts, { total: 6, completed: 3, failed: 3 });
  const expired = exp.batch.results.filter((r) => r.error);
  assert.equal(expired.length, 3);
  for (const r of expired) {
    assert.equal(r.response, null);
    assert.deepEqual([r.error.type, r.error.param, typeof r.error.message], ['expired', null, 'string']);
  }
  assert.deepEqual((await allResultPages(srv, exp.batch.id, 4)).flatMap((p) => p.data), exp.batch.results);
  assert.equal(srv.stats().batches.jobsById[exp.batch.id].status, 'expired');
});

test('OpenRouter batch: cancel mid-way keeps what is done; the rest fail as cancelled', async () => {
  const srv = await start({ batchDelayMs: 600, batchProgress: true });
  const reqs = Array.from({ length: 10 }, (_, i) => orReq(`c${i}`, noModel(uncapped(`Tell story ${i}.`))));
  const created = await orCreate(srv, orBody(reqs));
  let mid;
  do {
    await sleep(10);
    mid = await call(`${srv.url}/batches/${created.id}`);
  } while (mid.request_counts.completed < 2);
  assert.equal(mid.status, 'in_progress');
  assert.deepEqual([mid.results, mid.usage, mid.finalized_at], [[], null, null], 'nothing inline before the end');
  const cancelling = await call(`${srv.url}/batches/${created.id}/cancel`, { method: 'POST' });
  assert.equal(cancelling.status, 'cancelling');
  assert.equal(cancelling.model, 'openai/gpt-4o-mini');
  await call(`${srv.url}/batches/${created.id}/results`, { status: 409 });
  const { batch } = await pollOpenRouter(srv, created.id);
  assert.equal(batch.status, 'cancelled');
  assert.ok(batch.finalized_at);
  const done = batch.results.filter((r) => r.response);
  const cancelled = batch.results.filter((r) => r.error);
  assert.ok(done.length >= 2 && done.length < 10, `${done.length} done before the cancel`);
  assert.deepEqual(batch.request_counts, { total: 10, completed: done.length, failed: 10 - done.length });
  assert.ok(cancelled.every((r) => r.response === null && r.error.type === 'cancelled' && r.error.param === null &&
    typeof r.error.message === 'string'));
  assert.equal(batch.usage.prompt_tokens, done.reduce((s, r) => s + r.response.body.usage.prompt_tokens, 0));
  const again = await call(`${srv.url}/batches/${created.id}/cancel`, { method: 'POST', status: 400 });
  assert.match(again.error.message, /cancelled/);
  assert.equal(srv.stats().batches.jobsById[batch.id].status, 'cancelled');
});

test('OpenRouter batch: prefix cache as for the others; batchApi: false is 404', async () => {
  const srv = await start({ batchDelayMs: 10 });
  const reqs = ['a', 'b', 'c'].map((id) => orReq(id, noModel(withPrefix(`Question ${id}?`))));
  const { batch } = await pollOpenRouter(srv, (await orCreate(srv, orBody(reqs))).id);
  assert.deepEqual(batch.results.map((r) => r.response.body.usage.prompt_tokens_details.cached_tokens), [0, 1408, 1408]);
  assert.deepEqual([srv.stats().cache.requests, srv.stats().cache.cachedTokens], [3, 2 * 1408]);
  srv.configure({ batchApi: false });
  for (const [method, path] of [['POST', '/batches'], ['GET', `/batches/${batch.id}`], ['GET', `/batches/${batch.id}/results`]]) {
    const res = await fetch(`${srv.url}${path}`, { method, body: method === 'POST' ? orBody(reqs) : undefined });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: { message: 'Not found' } });
  }
});

test('OpenRouter prefix: every /v1 route is served under /openrouter/v1, same state and auth', async () => {
  const KEY = 'sk-or-prefix';
  const auth = BEARER(KEY);
  const srv = await start({ apiKey: KEY, batchDelayMs: 10 });
  const or = srv.openrouterUrl;
  assert.equal(or, `${root(srv)}/openrouter/v1`);

  // Chat completions and the model list.
  const unauth = await fetch(`${or}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req('Hi.')) });
  assert.equal(unauth.status, 401);
  const viaPrefix = await call(`${or}/chat/completions`, { method: 'POST', headers: auth, body: req('Tell me a story.') });
  const direct = await call(`${srv.url}/chat/completions`, { method: 'POST', headers: auth, body: req('Tell me a story.') });
  assert.equal(viaPrefix.choices[0].message.content, direct.choices[0].message.content);
  assert.deepEqual((await call(`${or}/models`)).data.map((m) => m.id), (await call(`${srv.url}/models`)).data.map((m) => m.id));

  // OpenRouter's batch shape: create, poll, results, cancel once ended, list; the same jobs as /v1.
  const res = await fetch(`${or}/batches`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth },
    body: orBody([orReq('a', noModel(uncapped('Tell story A.'))), orReq('b', noModel(uncapped('Tell story B.')))]) });
  assert.equal(res.status, 202);
  const created = await res.json();
  assert.match(created.id, /^batch_or_/);
  const { batch } = await poll(() => call(`${or}/batches/${created.id}`, { headers: auth }), (b) => ENDED.includes(b.status));
  assert.equal(batch.status, 'completed');
  assert.deepEqual(batch.request_counts, { total: 2, completed: 2, failed: 0 });
  assert.deepEqual(await call(`${srv.url}/batches/${created.id}`, { headers: auth }), batch, 'one server state');
  assert.deepEqual((await call(`${or}/batches/${created.id}/results?limit=1`, { headers: auth })).data, batch.results.slice(0, 1));
  assert.deepEqual((await call(`${or}/batches`, { headers: auth })).data.map((b) => b.id), [created.id]);
  assert.match((await call(`${or}/batches/${created.id}/cancel`, { method: 'POST', headers: auth, status: 400 })).error.message, /completed/);
  assert.deepEqual(srv.stats().batches.jobsById[created.id].api, 'openrouter');
  assert.equal(srv.stats().completions, 2, 'both realtime calls are counted, whichever prefix');

  // A browser's preflight, as for /v1; nothing else is aliased.
  const pre = await fetch(`${or}/batches`, { method: 'OPTIONS' });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.equal((await fetch(`${root(srv)}/openrouter/v2/models`)).status, 404);
  assert.equal((await fetch(`${root(srv)}/openrouter/_stats`)).status, 404);
  srv.configure({ batchApi: false });
  assert.equal((await fetch(`${or}/batches/${created.id}`, { headers: auth })).status, 404);
});
