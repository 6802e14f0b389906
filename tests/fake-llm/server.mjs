// Fake OpenAI/OpenRouter-compatible LLM server for tests (Node 20, node:http only, no deps).
//
// Owns: POST /v1/chat/completions (validation, auth, scripted / echo / shape-aware replies,
// usage + cost), GET /v1/models (OpenRouter-shaped pricing list), seeded fault injection
// (429 + Retry-After, 5xx, dropped sockets, malformed bodies, hangs), latency, CORS, stats,
// and a control API (GET /_stats, POST /_reset, POST /_configure) for other processes.
// Does not own: anything about Scenario Lab itself; it only answers what the prompts ask for.
//
// Module:  const srv = await startFakeLlm({ port: 0, latencyMs, jitterMs, script, echo, faults,
//            costPerCall, apiKey, retryAfterSeconds, models, seed,
//            replyTokens, ignoreMaxTokens, tokensPerSecond, pricePerMillion });
//          srv.url ('http://127.0.0.1:<port>/v1'), srv.port, srv.stats(), srv.reset(),
//          srv.configure({...}), await srv.close()
// CLI:     node tests/fake-llm/server.mjs --port 0 [--latency-ms N] [--rate-429 0.3] ...
//          [--reply-tokens 500 | 200-900 | '{"world":1500}'] [--ignore-max-tokens]
//          [--tokens-per-second 50] [--price-per-million 1,2 | '{"prompt":1,"completion":2}']
//          [--config '{...any module option as JSON...}']
//          prints {"url":"...","port":N} once listening; serves until SIGTERM/SIGINT.
//
// Bad-real-server options (all off by default; also settable with POST /_configure):
// - replyTokens: pad the shape-aware reply to about that many tokens (4 characters a token, as
//   usage counts them). A number, a {min, max} range (drawn per request from a hash of the seed
//   and the request body, so reproducible), or a map by role {actor, world, communication,
//   metric, check, summary} whose values are numbers or ranges (roles left out are not padded).
//   The role is read from the prompt as the shape-aware reply reads it: metrics extraction
//   system prompt -> metric, **PASSED:** -> check, **UPDATED STATE:** -> world,
//   **INITIATE_BILATERAL:** / **DECISION:** -> communication, **ACTION:** -> actor,
//   **RESPONSE:** / **MESSAGE:** -> communication, anything else -> summary. Padding appends
//   sentences (no digits, colons or tags) at the end of the reply, inside its last section, so
//   the format asked for still parses. Scripted and echo replies are never padded.
// - max_tokens is always honoured (as a real server does): a reply longer than the request's
//   max_tokens is cut to max_tokens tokens and answered with finish_reason "length" (else
//   "stop"); usage.completion_tokens counts what is returned.
// - ignoreMaxTokens: true: a bad provider. The full reply is returned whatever max_tokens says
//   (completion_tokens may exceed the cap), with finish_reason "stop".
// - tokensPerSecond: a slow local model. The answer's delay is latencyMs + jitter +
//   completion_tokens / tokensPerSecond * 1000 ms.
// - pricePerMillion: {prompt, completion} USD per million tokens (or a map by model id of such
//   pairs; models not in the map fall back to costPerCall). When set, usage.cost = prompt_tokens
//   x prompt + completion_tokens x completion (rounded to whole nano-dollars) instead of
//   costPerCall, so a call's cost follows its reply's length.
//
// stats(): requests, completions (200 replies with choices, counted when sent), answered (those
// fully written to the client), aborted (requests whose client closed the connection before an
// answer was written; a hang ended by close() or a dropped socket is not counted), byStatus,
// inFlight, peakInFlight, totalCost (what usage.cost billed), models, lastRequests (the last 50
// bodies), headers, faults, and calls: one record per chat request, in arrival order (the first
// 20,000), {n, model, role, maxTokens (null when the request had none), promptTokens,
// completionTokens, finishReason, cost, outcome: 'pending' | 'answered' | 'aborted' | 'error'
// | the fault's name}.
//
// Faults (`faults: {rate429, rate5xx, drop, malformed, hang}`), each one of: a probability
// 0..1, a list of request numbers ([2, 5]), or {every: k} (every k-th request). Request numbers
// count every POST /v1/chat/completions since start/reset, from 1 (== stats().requests).
// Draws are a hash of (seed, fault, request number), so a run is reproducible whatever the
// arrival interleaving. At most one fault per request, checked in the order
// hang, drop, rate429, rate5xx, malformed; faults apply after auth and validation.

import http from 'node:http';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FAULTS = ['hang', 'drop', 'rate429', 'rate5xx', 'malformed'];
const DEFAULT_MODELS = ['openai/gpt-4o-mini', 'anthropic/claude-3-haiku'];
const DEFAULTS = {
  latencyMs: 0, jitterMs: 0, script: [], echo: false, faults: {}, costPerCall: 0.0001,
  apiKey: null, retryAfterSeconds: 1, models: DEFAULT_MODELS, seed: 1,
  replyTokens: null, ignoreMaxTokens: false, tokensPerSecond: null, pricePerMillion: null,
};
const MAX_CALL_RECORDS = 20_000;
const CORS = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'retry-after' };
const PREFLIGHT = {
  ...CORS,
  'access-control-allow-headers': 'authorization, content-type, http-referer, x-title',
  'access-control-allow-methods': 'POST, GET, OPTIONS',
  'access-control-max-age': '600',
};

// FNV-1a 32-bit: deterministic replies and fault draws.
function fnv(str) {
  let h = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) h = Math.imul(h ^ str.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
// Fault/jitter draw in [0, 1): FNV plus the murmur3 finaliser, so that near-identical keys
// (request 10 vs 11) land far apart.
function draw(seed, what, n) {
  let h = fnv(`${seed}:${what}:${n}`);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

function faultHits(spec, seed, name, n) {
  if (spec == null || spec === false) return false;
  if (typeof spec === 'number') return draw(seed, name, n) < spec;
  if (Array.isArray(spec)) return spec.includes(n);
  if (typeof spec === 'object' && spec.every > 0) return n % spec.every === 0;
  return false;
}

const tokens = (s) => Math.ceil(s.length / 4);

const SENTENCES = [
  'The situation remains tense but negotiable.',
  'Stakeholders are weighing short-term costs against long-term stability.',
  'Public pressure is rising and resources are limited.',
  'A cautious, incremental approach seems most likely to hold.',
  'Several parties signal willingness to compromise on secondary issues.',
  'Trust between the main actors is fragile but improving.',
  'New information shifts the balance of incentives slightly.',
];

// The role a prompt plays, read from what it asks for. Meta prompts (metrics extraction, QA
// validation) and world-state updates embed other actors' tagged text, so they are checked
// first; the order is the one shapeReply answers in.
function promptRole(body) {
  const text = body.messages.map((m) => m.content).join('\n');
  const system = body.messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n');
  const has = (tag) => text.includes(`**${tag}:**`);
  if (/metrics extraction/i.test(system)) return { role: 'metric', kind: 'metric', text };
  if (has('PASSED')) return { role: 'check', kind: 'check', text };
  if (has('UPDATED STATE')) return { role: 'world', kind: 'world', text };
  if (has('INITIATE_BILATERAL')) return { role: 'communication', kind: 'bilateral', text, coalition: has('PROPOSE_COALITION') };
  if (has('DECISION')) return { role: 'communication', kind: 'decision', text };
  if (has('ACTION')) return { role: 'actor', kind: 'action', text };
  if (has('RESPONSE')) return { role: 'communication', kind: 'response', text };
  if (has('MESSAGE')) return { role: 'communication', kind: 'message', text };
  return { role: 'summary', kind: 'summary', text };
}

// Answer in the format the prompt asks for.
function shapeReply(body, raw) {
  const h = fnv(raw);
  const s = (k) => SENTENCES[(h + 2 * k) % SENTENCES.length];
  const p = promptRole(body);
  switch (p.kind) {
    case 'metric': return String((h % 10) + 1);
    case 'check': return `**PASSED:** Yes\n**ISSUES:**\n- None\n**SEVERITY:** low\n**EXPLANATION:** ${s(1)}`;
    case 'world':
      return `**UPDATED STATE:**\n${s(1)} ${s(2)}\n\n**KEY CHANGES:**\n- ${s(3)}\n- ${s(4)}\n- ${s(5)}` +
        `\n\n**CONSEQUENCES:**\n- ${s(6)}\n- ${s(7)}`;
    case 'bilateral': {
      const m = /Other actors:\s*(?:[-*•]\s*)?[*`"']*\s*([A-Za-z0-9][\w.-]*)/.exec(p.text);
      let out = m
        ? `**INITIATE_BILATERAL:** yes\n**TARGET_ACTOR:** ${m[1]}\n**PROPOSED_MESSAGE:** ${s(1)}\n`
        : '**INITIATE_BILATERAL:** no\n';
      if (p.coalition) out += '**PROPOSE_COALITION:** no\n';
      return `${out}**REASONING:** ${s(2)}`;
    }
    case 'decision': return `**DECISION:** accept\n**RESPONSE:** ${s(1)}`;
    case 'action':
      return `**LONG-TERM GOALS:**\n- ${s(1)}\n\n**SHORT-TERM PRIORITIES:**\n- ${s(2)}\n\n` +
        `**REASONING:**\n${s(3)} ${s(4)}\n\n**ACTION:**\n${s(5)}`;
    case 'response': return `**RESPONSE:** ${s(1)}`;
    case 'message': return `**MESSAGE:** ${s(1)}`;
    default: return `${s(1)} ${s(2)} ${s(3)}`;
  }
}

// The number of tokens `replyTokens` asks for this request's role (null: no padding).
function targetTokens(spec, role, seed, raw) {
  if (spec == null || spec === false) return null;
  const ranged = (v) => {
    if (typeof v === 'number') return v;
    if (v && typeof v === 'object' && Number.isFinite(v.min) && Number.isFinite(v.max)) {
      return Math.round(v.min + draw(seed, 'replyTokens', fnv(raw)) * (v.max - v.min));
    }
    return null;
  };
  const direct = ranged(spec);
  if (direct != null) return direct;
  return typeof spec === 'object' ? ranged(spec[role]) : null;
}

// Pads `content` to about `target` tokens by appending sentences at its end (inside its last
// section, whatever that is), never cutting what was there.
function pad(content, target, raw) {
  const chars = Math.max(0, Math.floor(target)) * 4;
  if (content.length >= chars) return content;
  const h = fnv(`pad:${raw}`);
  const parts = [content];
  let len = content.length;
  for (let k = 0; len < chars; k++) {
    const sentence = SENTENCES[(h + k) % SENTENCES.length];
    parts.push(sentence);
    len += sentence.length + 1;
  }
  const out = parts.join(' ').slice(0, chars);
  const space = out.lastIndexOf(' ');
  return (space > content.length ? out.slice(0, space) : out).trimEnd();
}

// Cut to `max` tokens (4 characters a token).
function cut(content, max) {
  return content.slice(0, Math.max(0, max) * 4);
}

function validate(body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'body must be a JSON object';
  if (typeof body.model !== 'string' || !body.model) return '`model` must be a non-empty string';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return '`messages` must be a non-empty array';
  for (const [i, m] of body.messages.entries()) {
    if (!m || typeof m.role !== 'string' || typeof m.content !== 'string') {
      return `messages[${i}] must be {role: string, content: string}`;
    }
  }
  for (const k of ['temperature', 'top_p']) {
    if (body[k] != null && typeof body[k] !== 'number') return `\`${k}\` must be a number`;
  }
  for (const k of ['max_tokens', 'seed']) {
    if (body[k] != null && !Number.isInteger(body[k])) return `\`${k}\` must be an integer`;
  }
  return null;
}

const errBody = (message, type, code) => JSON.stringify({ error: { message, type, code } });

function freshStats(inFlight = 0) {
  return {
    requests: 0, completions: 0, answered: 0, aborted: 0, byStatus: {}, inFlight, peakInFlight: inFlight,
    totalNanoCost: 0, models: {}, lastRequests: [], calls: [], headers: { httpReferer: 0, xTitle: 0 },
    faults: Object.fromEntries(FAULTS.map((f) => [f, 0])),
  };
}

export async function startFakeLlm(options = {}) {
  let cfg = { ...DEFAULTS };
  let st = freshStats();
  let scriptUsed = new Set();
  let genId = 0;
  let rotate = { rate5xx: 0, malformed: 0 };
  const timers = new Set();
  let closing = null; // close()'s promise, once called

  function configure(patch = {}) {
    cfg = { ...cfg, ...patch };
    if ('script' in patch) scriptUsed = new Set();
  }
  function reset() {
    st = freshStats(st.inFlight);
    scriptUsed = new Set();
    rotate = { rate5xx: 0, malformed: 0 };
  }
  function stats() {
    const { totalNanoCost, ...rest } = st;
    return structuredClone({ ...rest, totalCost: totalNanoCost / 1e9 });
  }
  configure(options);

  function scripted(lastUser) {
    const entries = cfg.script ?? [];
    let idx = entries.findIndex((e, i) => !scriptUsed.has(i) && e && typeof e === 'object' &&
      typeof e.match === 'string' && lastUser.includes(e.match));
    if (idx < 0) idx = entries.findIndex((e, i) => !scriptUsed.has(i) && (typeof e === 'string' || (e && e.match == null)));
    if (idx < 0) return null;
    if (!entries[idx].sticky) scriptUsed.add(idx);
    return typeof entries[idx] === 'string' ? entries[idx] : String(entries[idx].reply ?? '');
  }

  const later = (ms, fn) => {
    const t = setTimeout(() => { timers.delete(t); fn(); }, ms);
    timers.add(t);
  };

  function send(res, status, body, headers = {}, track = true) {
    if (track) st.byStatus[status] = (st.byStatus[status] ?? 0) + 1;
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, { ...CORS, 'content-type': 'application/json', ...headers });
    res.end(body);
  }

  // The nano-dollars a reply costs: pricePerMillion (flat or by model) when it applies, else
  // costPerCall; null when neither is set.
  function nanoCost(model, usage) {
    const ppm = cfg.pricePerMillion;
    const price = ppm && typeof ppm === 'object'
      ? (Number.isFinite(ppm.prompt) || Number.isFinite(ppm.completion) ? ppm : ppm[model]) : null;
    if (price) {
      return Math.round(usage.prompt_tokens * (price.prompt ?? 0) * 1e3 + usage.completion_tokens * (price.completion ?? 0) * 1e3);
    }
    return cfg.costPerCall != null ? Math.round(cfg.costPerCall * 1e9) : null;
  }

  // What a successful request would answer, decided on arrival (so that its length can set
  // its delay): content, usage, finish_reason.
  function compose(body, raw, record) {
    const users = body.messages.filter((m) => m.role === 'user');
    const lastUser = users.length ? users[users.length - 1].content : '';
    let content;
    if (cfg.echo) content = lastUser;
    else {
      content = scripted(lastUser);
      if (content == null) {
        content = shapeReply(body, raw);
        const target = targetTokens(cfg.replyTokens, record.role, cfg.seed, raw);
        if (target != null) content = pad(content, target, raw);
      }
    }
    let finishReason = 'stop';
    if (Number.isInteger(body.max_tokens) && !cfg.ignoreMaxTokens && tokens(content) > body.max_tokens) {
      content = cut(content, body.max_tokens);
      finishReason = 'length';
    }
    const usage = { prompt_tokens: tokens(body.messages.map((m) => m.content).join('')), completion_tokens: tokens(content) };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    return { content, usage, finishReason };
  }

  function chat(req, res, raw) {
    const n = ++st.requests;
    st.inFlight++;
    st.peakInFlight = Math.max(st.peakInFlight, st.inFlight);
    const record = { n, model: null, role: null, maxTokens: null, promptTokens: null, completionTokens: null,
      finishReason: null, cost: null, outcome: 'pending' };
    if (st.calls.length < MAX_CALL_RECORDS) st.calls.push(record);
    const stAtStart = st;
    let finished = false;
    let serverEnded = false; // a drop fault or close(): not the client's doing
    const done = () => {
      if (finished) return;
      finished = true;
      st.inFlight--;
      if (res.writableFinished) {
        if (record.outcome === 'answered' && st === stAtStart) st.answered++;
      } else if (!serverEnded && !closing) {
        record.outcome = 'aborted';
        if (st === stAtStart) st.aborted++;
      }
    };
    res.on('finish', done);
    res.on('close', done);
    if (req.headers['http-referer']) st.headers.httpReferer++;
    if (req.headers['x-title']) st.headers.xTitle++;

    const fail = (status, body) => { record.outcome = 'error'; return send(res, status, body); };
    if (cfg.apiKey && req.headers.authorization !== `Bearer ${cfg.apiKey}`) {
      return fail(401, errBody('invalid api key', 'authentication_error', 'invalid_api_key'));
    }
    let body;
    try { body = JSON.parse(raw); } catch {
      return fail(400, errBody('request body is not valid JSON', 'invalid_request_error', 'invalid_json'));
    }
    if (body && typeof body === 'object') st.lastRequests = [...st.lastRequests, body].slice(-50);
    const invalid = validate(body);
    if (invalid) return fail(400, errBody(invalid, 'invalid_request_error', 'invalid_request'));
    st.models[body.model] = (st.models[body.model] ?? 0) + 1;
    record.model = body.model;
    record.role = promptRole(body).role;
    record.maxTokens = body.max_tokens ?? null;

    const fault = FAULTS.find((f) => faultHits(cfg.faults?.[f], cfg.seed, f, n));
    if (fault) { st.faults[fault]++; record.outcome = fault; }
    if (fault === 'hang') return; // never answered; close() destroys the socket
    const reply = fault ? null : compose(body, raw, record);
    let delay = (cfg.latencyMs ?? 0) + Math.floor(draw(cfg.seed, 'jitter', n) * (cfg.jitterMs ?? 0));
    if (reply && cfg.tokensPerSecond > 0) delay += Math.round((reply.usage.completion_tokens / cfg.tokensPerSecond) * 1000);
    later(delay, () => answer(req, res, body, fault, reply, record, () => { serverEnded = true; }));
  }

  function answer(req, res, body, fault, reply, record, markServerEnded) {
    if (res.destroyed) return;
    if (fault === 'drop') { markServerEnded(); return req.socket.destroy(); }
    if (fault === 'rate429') {
      return send(res, 429, errBody('rate limit exceeded', 'rate_limit_error', 'rate_limit_exceeded'),
        { 'retry-after': String(cfg.retryAfterSeconds ?? 1) });
    }
    if (fault === 'rate5xx') {
      const status = [500, 502, 503][rotate.rate5xx++ % 3];
      return send(res, status, errBody(`upstream error ${status}`, 'server_error', 'upstream_error'));
    }
    if (fault === 'malformed') {
      const asText = rotate.malformed++ % 2 === 0;
      return send(res, 200, asText ? 'Internal hiccup <html>not json' :
        JSON.stringify({ id: `gen-${++genId}`, object: 'chat.completion', model: body.model }));
    }
    const { content, usage, finishReason } = reply;
    const nano = nanoCost(body.model, usage);
    if (nano != null) {
      st.totalNanoCost += nano;
      usage.cost = nano / 1e9;
    }
    Object.assign(record, { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens,
      finishReason, cost: usage.cost ?? null, outcome: 'answered' });
    st.completions++;
    send(res, 200, JSON.stringify({
      id: `gen-${++genId}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
      usage,
    }));
  }

  function modelList() {
    return JSON.stringify({
      data: (cfg.models ?? []).map((m) => (typeof m === 'string' ? { id: m } : m)).map((m) => ({
        id: m.id, name: m.name ?? m.id,
        pricing: { prompt: '0.000001', completion: '0.000002', ...m.pricing },
      })),
    });
  }

  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname.replace(/\/+$/, '');
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= 8 * 2 ** 20) chunks.push(c);
    });
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'OPTIONS') { res.writeHead(204, PREFLIGHT); return res.end(); }
      if (size > 8 * 2 ** 20) return send(res, 413, errBody('body too large', 'invalid_request_error', 'too_large'), {}, false);
      const route = `${req.method} ${path}`;
      if (route === 'POST /v1/chat/completions') return chat(req, res, raw);
      if (route === 'GET /v1/models') return send(res, 200, modelList(), {}, false);
      if (route === 'GET /_stats') return send(res, 200, JSON.stringify(stats()), {}, false);
      if (route === 'POST /_reset') { reset(); return send(res, 200, '{"ok":true}', {}, false); }
      if (route === 'POST /_configure') {
        try { configure(JSON.parse(raw || '{}')); } catch {
          return send(res, 400, errBody('configure body is not valid JSON', 'invalid_request_error', 'invalid_json'), {}, false);
        }
        return send(res, 200, '{"ok":true}', {}, false);
      }
      send(res, 404, errBody(`no route ${route}`, 'invalid_request_error', 'not_found'), {}, false);
    });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const port = server.address().port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    stats, reset, configure,
    close() {
      closing ??= new Promise((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

// ---- CLI ----------------------------------------------------------------------------------

function parseFault(v) {
  if (/^every:\d+$/.test(v)) return { every: Number(v.slice(6)) };
  if (v.includes(',') || /^\[/.test(v)) return v.replace(/[[\]]/g, '').split(',').filter(Boolean).map(Number);
  return Number(v);
}

// `500`, `200-900` (a range) or JSON (a number, {min, max}, or a map by role).
function parseReplyTokens(v) {
  const range = /^(\d+)-(\d+)$/.exec(v);
  if (range) return { min: Number(range[1]), max: Number(range[2]) };
  return /^\d+$/.test(v) ? Number(v) : JSON.parse(v);
}

// `1,2` (prompt, completion USD per million tokens) or JSON.
function parsePrices(v) {
  const pair = /^([\d.]+),([\d.]+)$/.exec(v);
  return pair ? { prompt: Number(pair[1]), completion: Number(pair[2]) } : JSON.parse(v);
}

export function parseArgs(argv) {
  const opts = { faults: {} };
  const faultFlags = { 'rate-429': 'rate429', 'rate-5xx': 'rate5xx', drop: 'drop', malformed: 'malformed', hang: 'hang' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i].replace(/^--/, '');
    if (flag === 'echo') { opts.echo = true; continue; }
    if (flag === 'ignore-max-tokens') { opts.ignoreMaxTokens = true; continue; }
    const v = argv[++i];
    if (v === undefined) throw new Error(`--${flag} needs a value`);
    if (faultFlags[flag]) opts.faults[faultFlags[flag]] = parseFault(v);
    else if (flag === 'api-key') opts.apiKey = v;
    else if (flag === 'cost-per-call') opts.costPerCall = v === 'null' ? null : Number(v);
    else if (flag === 'config') opts.config = v; // JSON string of extra options (script, models...)
    else if (flag === 'reply-tokens') opts.replyTokens = parseReplyTokens(v);
    else if (flag === 'price-per-million') opts.pricePerMillion = parsePrices(v);
    else if (['port', 'latency-ms', 'jitter-ms', 'retry-after-seconds', 'seed', 'tokens-per-second'].includes(flag)) {
      opts[flag.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = Number(v);
    } else throw new Error(`unknown flag --${flag}`);
  }
  if (opts.config) {
    const extra = JSON.parse(opts.config);
    delete opts.config;
    Object.assign(opts, extra, { faults: { ...opts.faults, ...extra.faults } });
  }
  return opts;
}

const isMain = (() => {
  try { return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url)); } catch { return false; }
})();

if (isMain) {
  const srv = await startFakeLlm(parseArgs(process.argv.slice(2)));
  process.stdout.write(`${JSON.stringify({ url: srv.url, port: srv.port })}\n`);
  const stop = () => srv.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
