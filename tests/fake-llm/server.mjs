// Fake OpenAI/OpenRouter-compatible LLM server for tests (Node 20, node:http only, no deps).
//
// Owns: POST /v1/chat/completions (validation, auth, scripted / echo / shape-aware replies,
// usage + cost), GET /v1/models (OpenRouter-shaped pricing list), seeded fault injection
// (429 + Retry-After, 5xx, dropped sockets, malformed bodies, hangs), latency, CORS, stats,
// and a control API (GET /_stats, POST /_reset, POST /_configure) for other processes.
// Does not own: anything about Scenario Lab itself; it only answers what the prompts ask for.
//
// Module:  const srv = await startFakeLlm({ port: 0, latencyMs, jitterMs, script, echo, faults,
//            costPerCall, apiKey, retryAfterSeconds, models, seed });
//          srv.url ('http://127.0.0.1:<port>/v1'), srv.port, srv.stats(), srv.reset(),
//          srv.configure({...}), await srv.close()
// CLI:     node tests/fake-llm/server.mjs --port 0 [--latency-ms N] [--rate-429 0.3] ...
//          prints {"url":"...","port":N} once listening; serves until SIGTERM/SIGINT.
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
};
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

// Answer in the format the prompt asks for. Meta prompts (metrics extraction, QA validation)
// and world-state updates embed other actors' tagged text, so they are checked first.
function shapeReply(body, raw) {
  const h = fnv(raw);
  const s = (k) => SENTENCES[(h + 2 * k) % SENTENCES.length];
  const text = body.messages.map((m) => m.content).join('\n');
  const system = body.messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n');
  const has = (tag) => text.includes(`**${tag}:**`);
  if (/metrics extraction/i.test(system)) return String((h % 10) + 1);
  if (has('PASSED')) {
    return `**PASSED:** Yes\n**ISSUES:**\n- None\n**SEVERITY:** low\n**EXPLANATION:** ${s(1)}`;
  }
  if (has('UPDATED STATE')) {
    return `**UPDATED STATE:**\n${s(1)} ${s(2)}\n\n**KEY CHANGES:**\n- ${s(3)}\n- ${s(4)}\n- ${s(5)}` +
      `\n\n**CONSEQUENCES:**\n- ${s(6)}\n- ${s(7)}`;
  }
  if (has('INITIATE_BILATERAL')) {
    const m = /Other actors:\s*(?:[-*•]\s*)?[*`"']*\s*([A-Za-z0-9][\w.-]*)/.exec(text);
    let out = m
      ? `**INITIATE_BILATERAL:** yes\n**TARGET_ACTOR:** ${m[1]}\n**PROPOSED_MESSAGE:** ${s(1)}\n`
      : '**INITIATE_BILATERAL:** no\n';
    if (has('PROPOSE_COALITION')) out += '**PROPOSE_COALITION:** no\n';
    return `${out}**REASONING:** ${s(2)}`;
  }
  if (has('DECISION')) return `**DECISION:** accept\n**RESPONSE:** ${s(1)}`;
  if (has('ACTION')) {
    return `**LONG-TERM GOALS:**\n- ${s(1)}\n\n**SHORT-TERM PRIORITIES:**\n- ${s(2)}\n\n` +
      `**REASONING:**\n${s(3)} ${s(4)}\n\n**ACTION:**\n${s(5)}`;
  }
  if (has('RESPONSE')) return `**RESPONSE:** ${s(1)}`;
  if (has('MESSAGE')) return `**MESSAGE:** ${s(1)}`;
  return `${s(1)} ${s(2)} ${s(3)}`;
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
    requests: 0, completions: 0, byStatus: {}, inFlight, peakInFlight: inFlight, totalNanoCost: 0,
    models: {}, lastRequests: [], headers: { httpReferer: 0, xTitle: 0 },
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

  function chat(req, res, raw) {
    const n = ++st.requests;
    st.inFlight++;
    st.peakInFlight = Math.max(st.peakInFlight, st.inFlight);
    let finished = false;
    const done = () => { if (!finished) { finished = true; st.inFlight--; } };
    res.on('finish', done);
    res.on('close', done);
    if (req.headers['http-referer']) st.headers.httpReferer++;
    if (req.headers['x-title']) st.headers.xTitle++;

    if (cfg.apiKey && req.headers.authorization !== `Bearer ${cfg.apiKey}`) {
      return send(res, 401, errBody('invalid api key', 'authentication_error', 'invalid_api_key'));
    }
    let body;
    try { body = JSON.parse(raw); } catch {
      return send(res, 400, errBody('request body is not valid JSON', 'invalid_request_error', 'invalid_json'));
    }
    if (body && typeof body === 'object') st.lastRequests = [...st.lastRequests, body].slice(-50);
    const invalid = validate(body);
    if (invalid) return send(res, 400, errBody(invalid, 'invalid_request_error', 'invalid_request'));
    st.models[body.model] = (st.models[body.model] ?? 0) + 1;

    const fault = FAULTS.find((f) => faultHits(cfg.faults?.[f], cfg.seed, f, n));
    if (fault) st.faults[fault]++;
    if (fault === 'hang') return; // never answered; close() destroys the socket
    const delay = (cfg.latencyMs ?? 0) + Math.floor(draw(cfg.seed, 'jitter', n) * (cfg.jitterMs ?? 0));
    later(delay, () => answer(req, res, body, raw, fault));
  }

  function answer(req, res, body, raw, fault) {
    if (res.destroyed) return;
    if (fault === 'drop') return req.socket.destroy();
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
    const users = body.messages.filter((m) => m.role === 'user');
    const lastUser = users.length ? users[users.length - 1].content : '';
    const content = cfg.echo ? lastUser : (scripted(lastUser) ?? shapeReply(body, raw));
    const promptTokens = tokens(body.messages.map((m) => m.content).join(''));
    const usage = { prompt_tokens: promptTokens, completion_tokens: tokens(content) };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    if (cfg.costPerCall != null) {
      const nano = Math.round(cfg.costPerCall * 1e9);
      st.totalNanoCost += nano;
      usage.cost = nano / 1e9;
    }
    st.completions++;
    send(res, 200, JSON.stringify({
      id: `gen-${++genId}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
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
  let closing;
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

export function parseArgs(argv) {
  const opts = { faults: {} };
  const faultFlags = { 'rate-429': 'rate429', 'rate-5xx': 'rate5xx', drop: 'drop', malformed: 'malformed', hang: 'hang' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i].replace(/^--/, '');
    if (flag === 'echo') { opts.echo = true; continue; }
    const v = argv[++i];
    if (v === undefined) throw new Error(`--${flag} needs a value`);
    if (faultFlags[flag]) opts.faults[faultFlags[flag]] = parseFault(v);
    else if (flag === 'api-key') opts.apiKey = v;
    else if (flag === 'cost-per-call') opts.costPerCall = v === 'null' ? null : Number(v);
    else if (flag === 'config') opts.config = v; // JSON string of extra options (script, models...)
    else if (['port', 'latency-ms', 'jitter-ms', 'retry-after-seconds', 'seed'].includes(flag)) {
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
