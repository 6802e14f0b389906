// Fake OpenAI/OpenRouter-compatible LLM server for tests (Node 20, node:http only, no deps).
//
// Owns: POST /v1/chat/completions (validation, auth, scripted / echo / shape-aware replies,
// usage + cost, prefix-cache accounting), GET /v1/models (OpenRouter-shaped pricing list),
// seeded fault injection (429 + Retry-After, 5xx, dropped sockets, malformed bodies, hangs),
// latency, CORS, stats, OpenAI's Batch + Files API, OpenRouter's Batch API, Anthropic's Message
// Batches API and OpenAI-compatible endpoint, and a control API (GET /_stats, POST /_reset,
// POST /_configure) for other processes.
// Does not own: anything about Scenario Lab itself; it only answers what the prompts ask for.
//
// Module:  const srv = await startFakeLlm({ port: 0, latencyMs, jitterMs, script, echo, faults,
//            costPerCall, apiKey, retryAfterSeconds, models, seed,
//            replyTokens, ignoreMaxTokens, tokensPerSecond, pricePerMillion,
//            promptCache, cacheReadFactor,
//            batchApi, batchDelayMs, batchFail, batchExpire, batchProgress, batchCostFactor,
//            batchSingleModel });
//          srv.url ('http://127.0.0.1:<port>/v1'), srv.openrouterUrl
//          ('http://127.0.0.1:<port>/openrouter/v1', see below), srv.port, srv.stats(),
//          srv.reset(), srv.configure({...}), await srv.close()
//          prefixStore() is exported too (the prompt cache's store, with counters of the
//          comparisons it makes, for its test).
// CLI:     node tests/fake-llm/server.mjs --port 0 [--latency-ms N] [--rate-429 0.3] ...
//          [--reply-tokens 500 | 200-900 | '{"world":1500}'] [--ignore-max-tokens]
//          [--tokens-per-second 50] [--price-per-million 1,2 | '{"prompt":1,"completion":2}']
//          [--batch-delay-ms 100] [--config '{...any module option as JSON...}']
//          prints {"url":"...","port":N} once listening; serves until SIGTERM/SIGINT.
//
// Replies are a function of the request body only (never of arrival order): the hash that
// picks the sentences and the replyTokens draw is taken over the body in a canonical form
// (keys sorted, message content parts joined), so the same body answered realtime, in an
// OpenAI or OpenRouter batch or (converted) in an Anthropic batch gets the same text. The exceptions are
// `script` entries (consumed in the order requests are processed) and `echo`.
// Chat messages' content may be a string or an array of {type: "text", text} parts (joined).
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
//   pairs; models not in the map fall back to costPerCall). When set, usage.cost =
//   (prompt_tokens - cached) x prompt + cached x prompt x cacheReadFactor + completion_tokens x
//   completion (rounded to whole nano-dollars) instead of costPerCall, so a call's cost
//   follows its reply's length.
//
// Prefix cache (every chat completion, realtime and batch, on by default):
// - A request's prompt text is its messages in order, each as `${role}\n${content}\n`. Its
//   longest common prefix (in characters) with the prompt text of any earlier processed
//   request to the same model (the last 4,096 prompts are kept, over all models, in a sorted
//   array per model) is converted to tokens as prompt_tokens counts them: the content
//   characters in that prefix (role lines and newlines left out) / 4, rounded down.
// - promptCache: {minTokens, blockTokens}, default {minTokens: 1024, blockTokens: 128}
//   (OpenAI's rule: nothing cached below minTokens, then minTokens + k x blockTokens, rounded
//   down); false (or null) turns caching off (no prompt_tokens_details, nothing stored).
// - OpenAI-shaped usage (realtime and batch output) adds prompt_tokens_details:
//   {cached_tokens}; prompt_tokens stays the total. Cached tokens cost cacheReadFactor
//   (default 0.5) x the prompt price when pricePerMillion applies.
// - Anthropic-shaped usage (Anthropic batch results): only requests with cache_control blocks
//   (at most 4) use the cache. The cacheable part is the prompt text up to and including the
//   last block with cache_control (its content characters / 4 rounded up, at most the prompt
//   tokens); cache_read_input_tokens = the cached prefix capped at that part (all of it when
//   the whole part matches; 0 below minTokens; no block rounding); cache_creation_input_tokens
//   = the rest of the part; input_tokens = what is left. A cacheable part below minTokens caches and
//   creates nothing. Only the cacheable part is stored for a later request.
// - Requests that fail (faults, 4xx, batchFail) or are never processed store nothing, nor do
//   OpenAI-shaped prompts shorter than minTokens. reset() empties the cache.
//
// OpenAI Batch + Files API (base srv.url, the same auth as chat: `Authorization: Bearer`):
//   POST /v1/files (multipart/form-data: purpose=batch, file=<JSONL>; each line
//        {custom_id, method: "POST", url: "/v1/chat/completions", body}; a bad line, a
//        duplicate custom_id, another url or method -> 400) -> file object
//   GET /v1/files, GET /v1/files/{id}, GET /v1/files/{id}/content (application/jsonl),
//   DELETE /v1/files/{id}
//   POST /v1/batches {input_file_id, endpoint: "/v1/chat/completions", completion_window:
//        "24h", metadata?} -> batch object (status "validating"); unknown file -> 404
//   GET /v1/batches/{id}, POST /v1/batches/{id}/cancel, GET /v1/batches?limit=N&after=ID
//        ({object: "list", data: newest first, first_id, last_id, has_more})
//   Status: validating (the first 10% of the job's time) -> in_progress -> completed at
//   batchDelayMs after creation (or expired at batchExpire.after_ms); cancel -> cancelling
//   (for 10% of batchDelayMs) -> cancelled. At the end, output_file_id (when any succeeded)
//   holds {id: "batch_req_…", custom_id, response: {status_code: 200, request_id, body: <the
//   realtime chat completion body>}, error: null} lines; error_file_id (when any did not)
//   holds status_code 500 (batchFail) or 400 (an invalid body) responses and
//   {response: null, error: {code: "batch_expired" | "batch_cancelled", message}} lines.
//   Lines are in a deterministic shuffled order (hash of seed, job and custom_id), not input
//   order. request_counts: completed = output lines, failed = error lines (so far).
//   A file whose requests name more than one model fails the batch (status "failed",
//   errors.data[0].code "model_mismatch") when batchSingleModel (default true), as OpenAI does.
// OpenRouter prefix: every /v1 route (chat completions, models, files, batches) is also served
//   under /openrouter/v1 (srv.openrouterUrl), the same server, state and auth, as /anthropic/v1
//   prefixes Anthropic's routes: clients that pick OpenRouter's batch protocol for a base URL
//   naming "openrouter" are pointed at http://127.0.0.1:PORT/openrouter/v1. The batch shape is
//   still told apart by the body (inline `requests` = OpenRouter's), whatever the prefix.
// OpenRouter Batch API (the same base srv.url and auth; its requests inline, no file):
//   POST /v1/batches {endpoint: "/v1/chat/completions", model, requests: [{custom_id, body:
//        <chat request; model may be left out, else it must equal the batch model>}],
//        completion_window?: "24h", metadata?} -> 202 with the batch object. Told apart from
//        OpenAI's create by the `requests` key (OpenAI's has input_file_id). 400s (OpenRouter's
//        envelope {error: {code: 400, message, metadata: {param}}}): `requests` before `endpoint`
//        or `model` in the JSON text (OpenRouter stream-parses it; the raw text's top-level key
//        order is checked), a body model other than the batch's, a missing/empty model or
//        requests, another endpoint or completion_window, a bad or duplicate custom_id, a body
//        that is not an object. A body that fails chat validation (no messages…) is not a 400:
//        that request fails (error type invalid_request_error), as it does in OpenAI's batches.
//   Batch object: {id: "batch_or_…", object: "batch", endpoint, model, status, request_counts:
//        {total, completed, failed}, results, error: null, usage, created_at (s),
//        finalized_at (s, when terminal, else null), completion_window: "24h"}. results is []
//        and usage null until the batch is terminal; then results holds every request, in the
//        shuffled order: {id: "batch_req_…", custom_id, response: {status_code: 200,
//        request_id, body: <the realtime chat completion body, with usage.cost = the realtime
//        cost x (batchCostFactor ?? 0.5)>}, error: null} or {id, custom_id, response: null,
//        error: {message, type: "server_error" (batchFail) | "invalid_request_error" |
//        "expired" | "cancelled", param: null}}, and usage the succeeded requests'
//        {prompt_tokens, completion_tokens, total_tokens} totals.
//   GET /v1/batches/{id} -> the batch object. Status: validating (the first 10% of the job's
//        time) -> in_progress -> completed at batchDelayMs (or expired at batchExpire.after_ms);
//        cancel -> cancelling -> cancelled, as OpenAI's.
//   GET /v1/batches/{id}/results?cursor=&limit= (limit 1..1000, default 100) -> {object: "list",
//        data: <a page of results, in the same order>, has_more, next_cursor: opaque string |
//        null}; pages are stable across calls; 409 while the batch is not terminal, 400 for a
//        cursor not of this batch. (404 for an OpenAI batch.)
//   POST /v1/batches/{id}/cancel -> the batch object (cancelling); 400 once terminal.
//   GET /v1/batches lists OpenAI and OpenRouter batches together, each in its own shape (an
//        OpenRouter one with results: null, as OpenRouter's list answers).
// Anthropic Message Batches (base http://127.0.0.1:PORT/anthropic/v1; `x-api-key: <apiKey>`
// when apiKey is set, and an `anthropic-version` header always, as Anthropic requires):
//   POST /anthropic/v1/messages/batches {requests: [{custom_id (^[a-zA-Z0-9_-]{1,64}$,
//        unique), params: {model, max_tokens, messages, system?, temperature?, top_p?}}]}
//   GET /anthropic/v1/messages/batches/{id}, GET …/{id}/results (JSONL once ended, in a
//   shuffled order: succeeded | errored | expired | canceled), POST …/{id}/cancel,
//   GET /anthropic/v1/messages/batches?limit=N&after_id=ID|before_id=ID ({data: newest
//   first, has_more, first_id, last_id}).
//   processing_status: in_progress -> ended at batchDelayMs (results_url set); cancel ->
//   canceling -> ended. Invalid params are not a 400: that request is `errored`
//   (invalid_request_error), as Anthropic validates them asynchronously. A request is
//   answered as the chat body {model, max_tokens, messages: [system?, ...messages] with text
//   parts joined, temperature?, top_p?} would be; stop_reason "max_tokens" for a cut reply.
//   POST /anthropic/v1/chat/completions: the same as /v1/chat/completions (counted, faulted
//   and billed alike), accepting `Authorization: Bearer` or `x-api-key`.
// Batch options (also settable with POST /_configure and --config; all but batchApi are read
// when a job is created, so reconfiguring does not change jobs already running):
// - batchApi: default true; false -> 404 {error: {message: "Not found"}} on every batch and
//   files route (as llama-server answers).
// - batchDelayMs: default 100; the time from creation to the end of a job.
// - batchFail: which requests of a job fail: a probability 0..1 (a draw from a hash of seed,
//   job number and custom_id; the job number counts jobs created since start/reset, from 1),
//   or a list of custom_ids.
// - batchExpire: {after_ms, share}: the job ends `expired` after after_ms with only
//   round(share x total) of its requests (the first in the shuffled order) processed; the
//   others are batch_expired (OpenAI) / expired (Anthropic, OpenRouter).
// - batchProgress: true: requests are processed one after another over the job's time
//   (after validating) instead of all at its end, so a cancel mid-way leaves a partial output.
// - batchCostFactor: a number: batch outputs' usage.cost = the realtime cost x that factor
//   (billed in totalCost); default null: no usage.cost in OpenAI batch outputs (as OpenAI's),
//   and 0.5 in OpenRouter ones (OpenRouter reports a batch's cost in usage.cost).
// - batchSingleModel: default true (see above).
// Batch requests go through the realtime reply function (shape, replyTokens, max_tokens,
// ignoreMaxTokens, script, usage, prefix cache) when they are processed; latency, faults and
// calls records do not apply to them.
//
// stats(): requests, completions (200 replies with choices, counted when sent), answered (those
// fully written to the client), aborted (requests whose client closed the connection before an
// answer was written; a hang ended by close() or a dropped socket is not counted), byStatus,
// inFlight, peakInFlight, totalCost (what usage.cost billed, batch outputs included), models,
// lastRequests (the last 50 bodies), headers, faults, and calls: one record per realtime chat
// request, in arrival order (the first 20,000), {n, model, role, maxTokens (null when the
// request had none), promptTokens, cachedTokens, completionTokens, finishReason, cost,
// outcome: 'pending' | 'answered' | 'aborted' | 'error' | the fault's name}.
// cache: {requests, promptTokens, cachedTokens}: every processed chat completion (realtime
// answered + batch succeeded); cachedTokens counts cached_tokens / cache_read_input_tokens.
// batches: {filesUploaded (POST /v1/files), jobsCreated (all three APIs), jobsById: {id: {api:
// 'openai' | 'openrouter' | 'anthropic', status (the API's own word), total, completed, failed (errored,
// expired and cancelled included), createdAt (ms epoch)}}, requestsSubmitted,
// duplicateRequests (requests whose body, custom_id aside and compared in canonical chat shape,
// was already submitted in an earlier job and succeeded there: paid twice; counted whatever
// became of the repeat, and not for repeats within one job)}. reset() clears all stats (jobs
// created before it still answer on the API but leave the stats) and the prefix cache.
//
// Faults (`faults: {rate429, rate5xx, drop, malformed, hang}`), each one of: a probability
// 0..1, a list of request numbers ([2, 5]), or {every: k} (every k-th request). Request numbers
// count every realtime chat completion request since start/reset, from 1 (== stats().requests).
// Draws are a hash of (seed, fault, request number), so a run is reproducible whatever the
// arrival interleaving. At most one fault per request, checked in the order
// hang, drop, rate429, rate5xx, malformed; faults apply after auth and validation.

import http from 'node:http';
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FAULTS = ['hang', 'drop', 'rate429', 'rate5xx', 'malformed'];
const DEFAULT_MODELS = ['openai/gpt-4o-mini', 'anthropic/claude-3-haiku'];
const DEFAULT_CACHE = { minTokens: 1024, blockTokens: 128 };
const DEFAULTS = {
  latencyMs: 0, jitterMs: 0, script: [], echo: false, faults: {}, costPerCall: 0.0001,
  apiKey: null, retryAfterSeconds: 1, models: DEFAULT_MODELS, seed: 1,
  replyTokens: null, ignoreMaxTokens: false, tokensPerSecond: null, pricePerMillion: null,
  promptCache: DEFAULT_CACHE, cacheReadFactor: 0.5,
  batchApi: true, batchDelayMs: 100, batchFail: null, batchExpire: null, batchProgress: false,
  batchCostFactor: null, batchSingleModel: true,
};
const MAX_CALL_RECORDS = 20_000;
const MAX_CACHED_PROMPTS = 4096;
const MAX_BODY = 8 * 2 ** 20;
const MAX_UPLOAD = 256 * 2 ** 20; // files and Anthropic batches (OpenAI: 200 MB, Anthropic: 256 MB)
const DAY_MS = 24 * 3600 * 1000;
const CORS = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'retry-after' };
const PREFLIGHT = {
  ...CORS,
  'access-control-allow-headers': 'authorization, content-type, http-referer, x-title',
  'access-control-allow-methods': 'POST, GET, OPTIONS',
  'access-control-max-age': '600',
};
const ANTHROPIC_PREFLIGHT = {
  ...PREFLIGHT,
  'access-control-allow-headers': `${PREFLIGHT['access-control-allow-headers']}, x-api-key, anthropic-version, ` +
    'anthropic-beta, anthropic-dangerous-direct-browser-access',
};
const FILES_PREFLIGHT = { ...PREFLIGHT, 'access-control-allow-methods': 'POST, GET, DELETE, OPTIONS' };

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
const sha1 = (s) => createHash('sha1').update(s).digest('hex');

function faultHits(spec, seed, name, n) {
  if (spec == null || spec === false) return false;
  if (typeof spec === 'number') return draw(seed, name, n) < spec;
  if (Array.isArray(spec)) return spec.includes(n);
  if (typeof spec === 'object' && spec.every > 0) return n % spec.every === 0;
  return false;
}

const tokens = (s) => Math.ceil(s.length / 4);

// JSON with sorted keys: the same body whatever its serialisation.
function canon(v) {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const isTextParts = (c) => Array.isArray(c) && c.every((p) => p && p.type === 'text' && typeof p.text === 'string');
const textOf = (c) => (typeof c === 'string' ? c : c.map((p) => p.text).join(''));
// The body with every message's content a string (text parts joined): what replies read.
const chatShape = (body) => ({ ...body, messages: body.messages.map((m) => ({ ...m, content: textOf(m.content) })) });
const promptText = (messages) => messages.map((m) => `${m.role}\n${m.content}\n`).join('');
// How many content characters (what prompt_tokens counts) the first `offset` characters of
// promptText(messages) hold: the role lines and newlines are not counted.
function contentChars(messages, offset) {
  let pos = 0;
  let content = 0;
  for (const m of messages) {
    pos += m.role.length + 1;
    if (offset <= pos) return content;
    if (offset <= pos + m.content.length) return content + offset - pos;
    content += m.content.length;
    pos += m.content.length + 1;
  }
  return content;
}

// Length of the common prefix of two strings, compared a chunk at a time.
function commonPrefix(a, b) {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i + 256 <= n && a.startsWith(b.slice(i, i + 256), i)) i += 256;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

// The last `limit` prompts, in one sorted array per model: the longest common prefix of a new
// prompt with any stored one is with a neighbour of its sorted position (binary search).
// Entries are {text, n} (n: how many of the kept prompts have that text).
// counters() says what the store did, so that a test can hold it to its complexity without a
// clock: `compares` (string comparisons of the binary searches, each over at most one prompt),
// `prefixCalls` (common-prefix scans, each against one stored prompt) and `prefixChars` (the
// characters those scans matched). Per add or longest(): at most 2 x ceil(log2(kept + 1))
// compares and 2 scans, whatever the number of prompts kept.
export function prefixStore(limit = MAX_CACHED_PROMPTS) {
  const byModel = new Map(); // model -> sorted [{text, n}]
  let fifo = [];
  let head = 0;
  const counts = { compares: 0, prefixCalls: 0, prefixChars: 0 };
  const position = (sorted, text) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      counts.compares++;
      if (sorted[mid].text < text) lo = mid + 1; else hi = mid;
    }
    return lo;
  };
  const prefix = (a, b) => {
    const n = commonPrefix(a, b);
    counts.prefixCalls++;
    counts.prefixChars += n;
    return n;
  };
  const near = (sorted, i, text) => Math.max(i > 0 ? prefix(text, sorted[i - 1].text) : 0,
    i < sorted.length ? prefix(text, sorted[i].text) : 0);
  // The longest common prefix (characters) of `text` with a kept prompt of `model`.
  function longest(model, text) {
    const sorted = byModel.get(model) ?? [];
    return near(sorted, position(sorted, text), text);
  }
  // Keeps `text` (dropping the oldest prompt past `limit`); returns longest() as it was before.
  function add(model, text) {
    if (!byModel.has(model)) byModel.set(model, []);
    const sorted = byModel.get(model);
    const i = position(sorted, text);
    const common = near(sorted, i, text);
    const entry = sorted[i]?.text === text ? sorted[i] : { text, n: 0 };
    if (entry.n++ === 0) sorted.splice(i, 0, entry);
    fifo.push([sorted, entry]);
    if (fifo.length - head > limit) {
      const [oldSorted, old] = fifo[head++];
      if (--old.n === 0) oldSorted.splice(position(oldSorted, old.text), 1);
    }
    if (head > limit) { fifo = fifo.slice(head); head = 0; }
    return common;
  }
  return {
    longest, add, size: () => fifo.length - head, counters: () => ({ ...counts }),
    clear() { byModel.clear(); fifo = []; head = 0; },
  };
}

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
    if (!m || typeof m.role !== 'string' || (typeof m.content !== 'string' && !isTextParts(m.content))) {
      return `messages[${i}] must be {role: string, content: string | [{type: "text", text}]}`;
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
const anthropicError = (type, message) => JSON.stringify({ type: 'error', error: { type, message } });

// ---- batch inputs ---------------------------------------------------------------------------

// The parts of a multipart/form-data body: [{name, filename, data: Buffer}], or null.
function parseMultipart(buf, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  if (!m) return null;
  const delim = Buffer.from(`--${m[1] ?? m[2]}`);
  const parts = [];
  let pos = buf.indexOf(delim);
  while (pos >= 0) {
    pos += delim.length;
    if (buf[pos] === 0x2d && buf[pos + 1] === 0x2d) return parts; // the closing delimiter
    if (buf[pos] === 0x0d) pos++;
    if (buf[pos] === 0x0a) pos++;
    const next = buf.indexOf(delim, pos);
    if (next < 0) return null;
    let end = next;
    if (buf[end - 1] === 0x0a) end--;
    if (buf[end - 1] === 0x0d) end--;
    const part = buf.subarray(pos, end);
    let sep = part.indexOf('\r\n\r\n');
    let skip = 4;
    if (sep < 0) { sep = part.indexOf('\n\n'); skip = 2; }
    if (sep < 0) return null;
    const head = part.subarray(0, sep).toString('utf8');
    const disposition = /content-disposition:([^\r\n]*)/i.exec(head)?.[1] ?? '';
    parts.push({
      name: /(?:^|;)\s*name="([^"]*)"/i.exec(disposition)?.[1] ?? null,
      filename: /(?:^|;)\s*filename="([^"]*)"/i.exec(disposition)?.[1] ?? null,
      data: part.subarray(sep + skip),
    });
    pos = next;
  }
  return null;
}

// An OpenAI batch input file: {requests: [{customId, body, line}]} or {error}.
function parseBatchFile(text) {
  const requests = [];
  const seen = new Set();
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    const at = `line ${i + 1}`;
    let r;
    try { r = JSON.parse(line); } catch { return { error: `${at} is not valid JSON` }; }
    if (!r || typeof r !== 'object' || Array.isArray(r)) return { error: `${at} is not a JSON object` };
    if (typeof r.custom_id !== 'string' || !r.custom_id) return { error: `${at}: custom_id must be a non-empty string` };
    if (seen.has(r.custom_id)) return { error: `${at}: duplicate custom_id "${r.custom_id}"` };
    if (r.method !== 'POST') return { error: `${at}: method must be "POST"` };
    if (r.url !== '/v1/chat/completions') return { error: `${at}: url must be "/v1/chat/completions"` };
    if (!r.body || typeof r.body !== 'object' || Array.isArray(r.body)) return { error: `${at}: body must be a JSON object` };
    seen.add(r.custom_id);
    requests.push({ customId: r.custom_id, body: r.body, line: i + 1 });
  }
  if (requests.length === 0) return { error: 'the file holds no requests' };
  if (requests.length > 50_000) return { error: 'a batch holds at most 50,000 requests' };
  return { requests };
}

// The keys of a JSON object text at its top level, in the order they appear in the text (the
// text is valid JSON): OpenRouter stream-parses a batch and needs `endpoint` and `model` first.
function topLevelKeys(text) {
  const keys = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)));
      expectKey = false;
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return keys;
}

// An OpenRouter batch (its parsed body and raw text): null, or {message, param} saying what is
// wrong with it.
function checkOpenRouterBatch(body, text) {
  const bad = (message, param = null) => ({ message, param });
  if (body.endpoint !== '/v1/chat/completions') return bad("'endpoint' must be '/v1/chat/completions'.", 'endpoint');
  if (typeof body.model !== 'string' || !body.model) return bad("'model' must be a non-empty string.", 'model');
  if (!Array.isArray(body.requests) || body.requests.length === 0) return bad("'requests' must be a non-empty array.", 'requests');
  const keys = topLevelKeys(text);
  const at = (k) => keys.indexOf(k);
  if (at('requests') < at('endpoint') || at('requests') < at('model')) {
    return bad("'endpoint' and 'model' must come before 'requests' in the request body (it is stream-parsed).", 'requests');
  }
  if (body.completion_window != null && body.completion_window !== '24h') return bad("'completion_window' must be '24h'.", 'completion_window');
  if (body.metadata != null && (typeof body.metadata !== 'object' || Array.isArray(body.metadata))) {
    return bad("'metadata' must be an object.", 'metadata');
  }
  if (body.requests.length > 50_000) return bad('a batch holds at most 50,000 requests', 'requests');
  const seen = new Set();
  for (const [i, r] of body.requests.entries()) {
    if (!r || typeof r !== 'object' || Array.isArray(r)) return bad(`requests[${i}] must be an object.`, `requests[${i}]`);
    if (typeof r.custom_id !== 'string' || !r.custom_id) {
      return bad(`requests[${i}].custom_id must be a non-empty string.`, `requests[${i}].custom_id`);
    }
    if (seen.has(r.custom_id)) return bad(`requests[${i}]: duplicate custom_id "${r.custom_id}".`, `requests[${i}].custom_id`);
    seen.add(r.custom_id);
    if (!r.body || typeof r.body !== 'object' || Array.isArray(r.body)) return bad(`requests[${i}].body must be an object.`, `requests[${i}].body`);
    if (r.body.model != null && r.body.model !== body.model) {
      return bad(`requests[${i}].body.model '${r.body.model}' does not match the batch model '${body.model}'.`, `requests[${i}].body.model`);
    }
  }
  return null;
}

// An Anthropic message batch's top-level shape: null, or what is wrong with it.
function checkAnthropicBatch(body) {
  if (!body || !Array.isArray(body.requests) || body.requests.length === 0) return 'requests: must be a non-empty array';
  if (body.requests.length > 100_000) return 'requests: at most 100,000 requests';
  const seen = new Set();
  for (const [i, r] of body.requests.entries()) {
    if (!r || typeof r.custom_id !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(r.custom_id)) {
      return `requests.${i}.custom_id: must match ^[a-zA-Z0-9_-]{1,64}$`;
    }
    if (seen.has(r.custom_id)) return `requests.${i}.custom_id: duplicate custom_id "${r.custom_id}"`;
    seen.add(r.custom_id);
    if (!r.params || typeof r.params !== 'object' || Array.isArray(r.params)) return `requests.${i}.params: must be an object`;
  }
  return null;
}

const isBlocks = (c) => Array.isArray(c) && c.length > 0 && c.every((b) => b && b.type === 'text' && typeof b.text === 'string');

// Anthropic params as a chat body {model, max_tokens, messages, temperature?, top_p?} plus the
// prompt-text offset just after the last cache_control block ({body, breakpoint}), or {error}.
function anthropicToChat(p) {
  if (typeof p.model !== 'string' || !p.model) return { error: 'model: Field required' };
  if (!Number.isInteger(p.max_tokens) || p.max_tokens < 1) return { error: 'max_tokens: must be a positive integer' };
  if (!Array.isArray(p.messages) || p.messages.length === 0) return { error: 'messages: must be a non-empty array' };
  if (p.system != null && typeof p.system !== 'string' && !isBlocks(p.system)) return { error: 'system: must be a string or text blocks' };
  for (const k of ['temperature', 'top_p']) {
    if (p[k] != null && typeof p[k] !== 'number') return { error: `${k}: must be a number` };
  }
  const turns = p.system != null ? [{ role: 'system', content: p.system }] : [];
  for (const [i, m] of p.messages.entries()) {
    if (!m || !['user', 'assistant'].includes(m.role)) return { error: `messages.${i}.role: must be "user" or "assistant"` };
    if (typeof m.content !== 'string' && !isBlocks(m.content)) return { error: `messages.${i}.content: must be a string or text blocks` };
    turns.push(m);
  }
  let pos = 0;
  let breakpoint = null;
  let marks = 0;
  const messages = turns.map((m) => {
    pos += m.role.length + 1;
    for (const b of typeof m.content === 'string' ? [{ text: m.content }] : m.content) {
      pos += b.text.length;
      if (b.cache_control) { breakpoint = pos; marks++; }
    }
    pos += 1;
    return { role: m.role, content: textOf(m.content) };
  });
  if (marks > 4) return { error: `A maximum of 4 blocks with cache_control may be provided. Found ${marks}.` };
  const body = { model: p.model, max_tokens: p.max_tokens, messages, temperature: p.temperature, top_p: p.top_p };
  return { body, breakpoint };
}

function freshStats(inFlight = 0) {
  return {
    requests: 0, completions: 0, answered: 0, aborted: 0, byStatus: {}, inFlight, peakInFlight: inFlight,
    totalNanoCost: 0, models: {}, lastRequests: [], calls: [], headers: { httpReferer: 0, xTitle: 0 },
    faults: Object.fromEntries(FAULTS.map((f) => [f, 0])),
    cache: { requests: 0, promptTokens: 0, cachedTokens: 0 },
    batches: { filesUploaded: 0, jobsCreated: 0, requestsSubmitted: 0 },
  };
}

export async function startFakeLlm(options = {}) {
  let cfg = { ...DEFAULTS };
  let st = freshStats();
  let scriptUsed = new Set();
  let genId = 0;
  let idSeq = 0; // file, batch and request ids: never reset, so ids stay unique
  let rotate = { rate5xx: 0, malformed: 0 };
  let epoch = 0; // reset() count: jobs created before the last reset leave the stats
  const timers = new Set();
  const prompts = prefixStore();
  const files = new Map(); // id -> {id, bytes, createdMs, filename, purpose, content, requests?}
  const jobs = new Map(); // id -> job, both APIs, in creation order
  const active = new Set(); // jobs not ended yet
  let base = null; // 'http://127.0.0.1:<port>', once listening
  let closing = null; // close()'s promise, once called

  function configure(patch = {}) {
    cfg = { ...cfg, ...patch };
    if ('script' in patch) scriptUsed = new Set();
  }
  function reset() {
    st = freshStats(st.inFlight);
    scriptUsed = new Set();
    rotate = { rate5xx: 0, malformed: 0 };
    epoch++;
    prompts.clear();
  }
  function stats() {
    advanceAll(Date.now());
    const { totalNanoCost, batches, ...rest } = st;
    return structuredClone({ ...rest, totalCost: totalNanoCost / 1e9, batches: batchStats(batches) });
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
  const newId = (prefix, len = 24) => `${prefix}${sha1(`${cfg.seed}:${prefix}:${++idSeq}`).slice(0, len)}`;

  function send(res, status, body, headers = {}, track = true) {
    if (track) st.byStatus[status] = (st.byStatus[status] ?? 0) + 1;
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, { ...CORS, 'content-type': 'application/json', ...headers });
    res.end(body);
  }

  // The nano-dollars a reply costs: pricePerMillion (flat or by model, cached prompt tokens at
  // cacheReadFactor) when it applies, else costPerCall; null when neither is set.
  function nanoCost(model, usage) {
    const ppm = cfg.pricePerMillion;
    const price = ppm && typeof ppm === 'object'
      ? (Number.isFinite(ppm.prompt) || Number.isFinite(ppm.completion) ? ppm : ppm[model]) : null;
    if (price) {
      const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
      const prompt = usage.prompt_tokens - cached + cached * (cfg.cacheReadFactor ?? 0.5);
      return Math.round(prompt * (price.prompt ?? 0) * 1e3 + usage.completion_tokens * (price.completion ?? 0) * 1e3);
    }
    return cfg.costPerCall != null ? Math.round(cfg.costPerCall * 1e9) : null;
  }

  // What a successful request answers, for a body in chat shape and its canonical form `key`:
  // content, finishReason, promptTokens, completionTokens. A function of the body (and of the
  // script when one is set), so realtime and batch answers agree.
  function compose(body, key, role) {
    const users = body.messages.filter((m) => m.role === 'user');
    const lastUser = users.length ? users[users.length - 1].content : '';
    let content;
    if (cfg.echo) content = lastUser;
    else {
      content = scripted(lastUser);
      if (content == null) {
        content = shapeReply(body, key);
        const target = targetTokens(cfg.replyTokens, role, cfg.seed, key);
        if (target != null) content = pad(content, target, key);
      }
    }
    let finishReason = 'stop';
    if (Number.isInteger(body.max_tokens) && !cfg.ignoreMaxTokens && tokens(content) > body.max_tokens) {
      content = cut(content, body.max_tokens);
      finishReason = 'length';
    }
    const promptTokens = tokens(body.messages.map((m) => m.content).join(''));
    return { content, finishReason, promptTokens, completionTokens: tokens(content) };
  }

  // ---- prefix cache ----

  function cacheRule() {
    const pc = cfg.promptCache;
    if (pc == null || pc === false) return null;
    const rule = { ...DEFAULT_CACHE, ...(typeof pc === 'object' ? pc : {}) };
    return { minTokens: Math.max(0, rule.minTokens), blockTokens: Math.max(1, rule.blockTokens) };
  }
  // OpenAI: the cached tokens of this prompt (null when caching is off); then stores it.
  function cachedOpenAi(body, promptTokens) {
    const rule = cacheRule();
    if (!rule) return null;
    const text = promptText(body.messages);
    const common = tokens(text) >= rule.minTokens ? prompts.add(body.model, text) : prompts.longest(body.model, text);
    const t = Math.min(Math.floor(contentChars(body.messages, common) / 4), promptTokens);
    return t < rule.minTokens ? 0 : rule.minTokens + Math.floor((t - rule.minTokens) / rule.blockTokens) * rule.blockTokens;
  }
  // Anthropic: {read, creation} for a prompt whose cacheable part ends at character
  // `breakpoint` (null: no cache_control); then stores that part.
  function cachedAnthropic(body, breakpoint, promptTokens) {
    const rule = cacheRule();
    if (!rule || breakpoint == null) return { read: 0, creation: 0 };
    const cacheable = Math.min(Math.ceil(contentChars(body.messages, breakpoint) / 4), promptTokens);
    if (cacheable === 0 || cacheable < rule.minTokens) return { read: 0, creation: 0 };
    const part = promptText(body.messages).slice(0, breakpoint);
    const common = prompts.add(body.model, part);
    let read = common >= breakpoint ? cacheable : Math.min(Math.floor(contentChars(body.messages, common) / 4), cacheable);
    if (read < rule.minTokens) read = 0;
    return { read, creation: cacheable - read };
  }
  function countCache(promptTokens, cached) {
    st.cache.requests++;
    st.cache.promptTokens += promptTokens;
    st.cache.cachedTokens += cached;
  }

  function usageOf(r, cached) {
    const usage = { prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.promptTokens + r.completionTokens };
    if (cached != null) usage.prompt_tokens_details = { cached_tokens: cached };
    return usage;
  }
  const completionBody = (model, r, usage) => ({
    id: `gen-${++genId}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
    choices: [{ index: 0, message: { role: 'assistant', content: r.content }, finish_reason: r.finishReason }],
    usage,
  });
  const authorized = (req, xApiKeyToo) => !cfg.apiKey || req.headers.authorization === `Bearer ${cfg.apiKey}` ||
    (xApiKeyToo && req.headers['x-api-key'] === cfg.apiKey);

  // ---- realtime chat ----

  function chat(req, res, raw, xApiKeyToo) {
    const n = ++st.requests;
    st.inFlight++;
    st.peakInFlight = Math.max(st.peakInFlight, st.inFlight);
    const record = { n, model: null, role: null, maxTokens: null, promptTokens: null, cachedTokens: null,
      completionTokens: null, finishReason: null, cost: null, outcome: 'pending' };
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
    if (!authorized(req, xApiKeyToo)) return fail(401, errBody('invalid api key', 'authentication_error', 'invalid_api_key'));
    let body;
    try { body = JSON.parse(raw); } catch {
      return fail(400, errBody('request body is not valid JSON', 'invalid_request_error', 'invalid_json'));
    }
    if (body && typeof body === 'object') st.lastRequests = [...st.lastRequests, body].slice(-50);
    const invalid = validate(body);
    if (invalid) return fail(400, errBody(invalid, 'invalid_request_error', 'invalid_request'));
    const shaped = chatShape(body);
    st.models[body.model] = (st.models[body.model] ?? 0) + 1;
    record.model = body.model;
    record.role = promptRole(shaped).role;
    record.maxTokens = body.max_tokens ?? null;

    const fault = FAULTS.find((f) => faultHits(cfg.faults?.[f], cfg.seed, f, n));
    if (fault) { st.faults[fault]++; record.outcome = fault; }
    if (fault === 'hang') return; // never answered; close() destroys the socket
    let reply = null;
    if (!fault) {
      reply = compose(shaped, canon(shaped), record.role);
      reply.cached = cachedOpenAi(shaped, reply.promptTokens);
    }
    let delay = (cfg.latencyMs ?? 0) + Math.floor(draw(cfg.seed, 'jitter', n) * (cfg.jitterMs ?? 0));
    if (reply && cfg.tokensPerSecond > 0) delay += Math.round((reply.completionTokens / cfg.tokensPerSecond) * 1000);
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
    const usage = usageOf(reply, reply.cached);
    const nano = nanoCost(body.model, usage);
    if (nano != null) {
      st.totalNanoCost += nano;
      usage.cost = nano / 1e9;
    }
    Object.assign(record, { promptTokens: usage.prompt_tokens, cachedTokens: reply.cached ?? 0,
      completionTokens: usage.completion_tokens, finishReason: reply.finishReason, cost: usage.cost ?? null, outcome: 'answered' });
    st.completions++;
    countCache(usage.prompt_tokens, reply.cached ?? 0);
    send(res, 200, JSON.stringify(completionBody(body.model, reply, usage)));
  }

  function modelList() {
    return JSON.stringify({
      data: (cfg.models ?? []).map((m) => (typeof m === 'string' ? { id: m } : m)).map((m) => ({
        id: m.id, name: m.name ?? m.id,
        pricing: { prompt: '0.000001', completion: '0.000002', ...m.pricing },
      })),
    });
  }

  // ---- batch jobs (every API) ----
  // A job's requests are processed in a shuffled order (a hash of seed, job number and
  // custom_id), all at its end or, with batchProgress, one after another over its time;
  // processing is lazy: every HTTP request, stats() and a timer at the job's end first process
  // whatever is due by then, oldest due first, so the prefix cache sees requests in time order.

  // entries: [{customId, body (chat shape) | null, invalid (why the body is bad) | null, key,
  // breakpoint}]
  function createJob(api, entries, extra = {}) {
    const n = ++st.batches.jobsCreated;
    st.batches.requestsSubmitted += entries.length;
    const expire = cfg.batchExpire && Number.isFinite(cfg.batchExpire.after_ms) ? cfg.batchExpire : null;
    const delayMs = Math.max(0, cfg.batchDelayMs ?? 100);
    const endMs = expire ? Math.max(0, expire.after_ms) : delayMs;
    const rank = entries.map((e) => draw(cfg.seed, `order:${n}`, e.customId));
    const share = expire ? Math.min(1, Math.max(0, Number(expire.share) || 0)) : 1;
    const job = {
      id: newId(api === 'anthropic' ? 'msgbatch_' : api === 'openrouter' ? 'batch_or_' : 'batch_'), api, n, epoch, createdMs: Date.now(),
      endMs, validMs: Math.floor(endMs / 10), cancelDelayMs: Math.floor(delayMs / 10), expired: !!expire,
      items: entries.map((e) => ({ ...e, hash: sha1(e.key), state: 'pending', status: null, result: null })),
      order: entries.map((_, i) => i).sort((a, b) => rank[a] - rank[b] || a - b),
      next: 0, doneCount: extra.invalid ? 0 : Math.round(share * entries.length),
      progress: !!cfg.batchProgress, fail: cfg.batchFail, costFactor: cfg.batchCostFactor, seed: cfg.seed,
      counts: { succeeded: 0, failed: 0, expired: 0, cancelled: 0 },
      status: api === 'anthropic' ? 'in_progress' : 'validating', at: {}, cancelMs: null, ended: false, ...extra,
    };
    jobs.set(job.id, job);
    active.add(job);
    later(job.endMs + 1, () => advanceAll(Date.now()));
    return job;
  }

  // When the job's next request is due (ms epoch), Infinity when none is.
  function dueAt(job) {
    if (job.ended || job.cancelMs != null || job.next >= job.doneCount) return Infinity;
    const rel = job.progress ? job.validMs + ((job.endMs - job.validMs) * (job.next + 1)) / job.items.length : job.endMs;
    return job.createdMs + rel;
  }

  function advanceAll(now) {
    for (;;) {
      let best = null;
      let bestAt = Infinity;
      for (const job of active) {
        const at = dueAt(job);
        if (at <= now && at < bestAt) { best = job; bestAt = at; }
      }
      if (!best) break;
      processItem(best, best.items[best.order[best.next++]]);
    }
    for (const job of active) updateStatus(job, now);
  }

  const failHits = (job, item) => (Array.isArray(job.fail) ? job.fail.includes(item.customId)
    : typeof job.fail === 'number' && draw(job.seed, 'batchFail', `${job.n}:${item.customId}`) < job.fail);

  function settle(job, item, state, status = null) {
    item.state = state;
    item.status = status;
    job.counts[state]++;
  }

  function processItem(job, item) {
    if (item.invalid) return settle(job, item, 'failed', 400);
    if (failHits(job, item)) return settle(job, item, 'failed', 500);
    const counted = job.epoch === epoch;
    const r = compose(item.body, item.key, promptRole(item.body).role);
    let cached;
    if (job.api !== 'anthropic') {
      const usage = usageOf(r, cachedOpenAi(item.body, r.promptTokens));
      cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
      // OpenRouter reports a batch's cost (half the realtime price unless batchCostFactor says).
      const factor = job.api === 'openrouter' ? job.costFactor ?? 0.5 : job.costFactor;
      const nano = factor != null ? nanoCost(item.body.model, usage) : null;
      if (nano != null) {
        const billed = Math.round(nano * factor);
        usage.cost = billed / 1e9;
        if (counted) st.totalNanoCost += billed;
      }
      item.result = completionBody(item.body.model, r, usage);
    } else {
      const { read, creation } = cachedAnthropic(item.body, item.breakpoint, r.promptTokens);
      cached = read;
      item.result = {
        id: newId('msg_'), type: 'message', role: 'assistant', model: item.body.model,
        content: [{ type: 'text', text: r.content }],
        stop_reason: r.finishReason === 'length' ? 'max_tokens' : 'end_turn', stop_sequence: null,
        usage: { input_tokens: r.promptTokens - read - creation, output_tokens: r.completionTokens,
          cache_creation_input_tokens: creation, cache_read_input_tokens: read },
      };
    }
    if (counted) countCache(r.promptTokens, cached);
    settle(job, item, 'succeeded');
  }

  function updateStatus(job, now) {
    const t = now - job.createdMs;
    if (job.cancelMs != null) {
      if (t < job.cancelMs + job.cancelDelayMs) { job.status = 'cancelling'; return; }
      return finish(job, 'cancelled', job.createdMs + job.cancelMs + job.cancelDelayMs);
    }
    if (t >= job.validMs && !job.invalid) job.at.in_progress ??= job.createdMs + job.validMs;
    if (job.invalid && t >= job.validMs) return finish(job, 'failed', job.createdMs + job.validMs);
    if (t >= job.endMs) return finish(job, job.expired ? 'expired' : 'completed', job.createdMs + job.endMs);
    job.status = t < job.validMs && job.api !== 'anthropic' ? 'validating' : 'in_progress';
  }

  function finish(job, status, atMs) {
    if (status !== 'failed') {
      for (const i of job.order) {
        if (job.items[i].state === 'pending') settle(job, job.items[i], status === 'cancelled' ? 'cancelled' : 'expired');
      }
    }
    job.status = status;
    job.ended = true;
    job.endedMs = atMs;
    job.at[status] = atMs;
    if (status === 'completed' || status === 'expired') job.at.finalizing = atMs;
    active.delete(job);
    if (job.api === 'openai') writeOutputs(job);
    else if (job.api === 'openrouter') writeOpenRouterResults(job);
    else job.results = job.order.map((i) => `${JSON.stringify(anthropicLine(job.items[i]))}\n`).join('');
  }

  function cancel(job, now) {
    job.cancelMs = now - job.createdMs;
    job.at.cancelling = now;
    job.status = 'cancelling';
    later(job.cancelDelayMs + 1, () => advanceAll(Date.now()));
  }

  // ---- OpenAI shapes ----

  function addFile(content, filename, purpose, requests = null) {
    const file = { id: newId('file-'), bytes: Buffer.byteLength(content), createdMs: Date.now(), filename, purpose, content, requests };
    files.set(file.id, file);
    return file;
  }
  const fileObject = (f) => ({ id: f.id, object: 'file', bytes: f.bytes, created_at: Math.floor(f.createdMs / 1000),
    filename: f.filename, purpose: f.purpose });

  function openAiLine(item) {
    const line = { id: newId('batch_req_', 32), custom_id: item.customId, response: null, error: null };
    const response = (status_code, body) => ({ status_code, request_id: newId('req_', 32), body });
    if (item.state === 'succeeded') line.response = response(200, item.result);
    else if (item.status === 400) {
      line.response = response(400, { error: { message: item.invalid, type: 'invalid_request_error', param: null, code: null } });
    } else if (item.state === 'failed') {
      line.response = response(500, { error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error' } });
    } else if (item.state === 'expired') {
      line.error = { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' };
    } else line.error = { code: 'batch_cancelled', message: 'This request was not executed because the batch was cancelled.' };
    return line;
  }

  function writeOutputs(job) {
    if (job.invalid) return;
    const out = [];
    const errors = [];
    for (const i of job.order) {
      const item = job.items[i];
      (item.state === 'succeeded' ? out : errors).push(`${JSON.stringify(openAiLine(item))}\n`);
    }
    if (out.length) job.outputFileId = addFile(out.join(''), `${job.id}_output.jsonl`, 'batch_output').id;
    if (errors.length) job.errorFileId = addFile(errors.join(''), `${job.id}_error.jsonl`, 'batch_output').id;
  }

  function openAiBatch(job) {
    const s = (ms) => (ms == null ? null : Math.floor(ms / 1000));
    const c = job.counts;
    return {
      id: job.id, object: 'batch', endpoint: job.endpoint,
      errors: job.invalid ? { object: 'list', data: job.invalid } : null,
      input_file_id: job.inputFileId, completion_window: job.completionWindow, status: job.status,
      output_file_id: job.outputFileId ?? null, error_file_id: job.errorFileId ?? null,
      created_at: s(job.createdMs), in_progress_at: s(job.at.in_progress), expires_at: s(job.createdMs + DAY_MS),
      finalizing_at: s(job.at.finalizing), completed_at: s(job.at.completed), failed_at: s(job.at.failed),
      expired_at: s(job.at.expired), cancelling_at: s(job.at.cancelling), cancelled_at: s(job.at.cancelled),
      request_counts: { total: job.items.length, completed: c.succeeded, failed: c.failed + c.expired + c.cancelled },
      metadata: job.metadata ?? null,
    };
  }

  // ---- OpenRouter shapes ----

  // A result: {id, custom_id, response: {status_code: 200, request_id, body} | null,
  // error: {message, type, param: null} | null}; ids are drawn once, when the batch ends.
  function openRouterResult(item) {
    const r = { id: newId('batch_req_', 32), custom_id: item.customId, response: null, error: null };
    const error = (type, message) => ({ message, type, param: null });
    if (item.state === 'succeeded') r.response = { status_code: 200, request_id: newId('req_', 32), body: item.result };
    else if (item.status === 400) r.error = error('invalid_request_error', item.invalid);
    else if (item.state === 'failed') r.error = error('server_error', 'The provider had an error while processing this request.');
    else if (item.state === 'expired') r.error = error('expired', 'This request could not be executed before the completion window expired.');
    else r.error = error('cancelled', 'This request was not executed because the batch was cancelled.');
    return r;
  }

  function writeOpenRouterResults(job) {
    job.results = job.order.map((i) => openRouterResult(job.items[i]));
    const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    for (const item of job.items) {
      if (item.state !== 'succeeded') continue;
      for (const k of Object.keys(usage)) usage[k] += item.result.usage[k];
    }
    job.usage = usage;
  }

  // The batch object; in a list, `results` is null (as OpenRouter's list answers).
  function openRouterBatch(job, listed = false) {
    const s = (ms) => (ms == null ? null : Math.floor(ms / 1000));
    const c = job.counts;
    return {
      id: job.id, object: 'batch', endpoint: job.endpoint, model: job.model, status: job.status,
      request_counts: { total: job.items.length, completed: c.succeeded, failed: c.failed + c.expired + c.cancelled },
      results: listed ? null : job.ended ? job.results : [],
      error: null, usage: job.ended ? job.usage : null,
      created_at: s(job.createdMs), finalized_at: job.ended ? s(job.endedMs) : null, completion_window: '24h',
    };
  }

  // GET …/{id}/results: {object: "list", data, has_more, next_cursor}; the cursor is opaque
  // (the offset of the next result, tied to the batch), so pages are stable.
  function openRouterResults(job, query, fail) {
    if (!job.ended) return fail(409, `Batch ${job.id} is still ${job.status}; results are available once it has finished.`);
    const limit = Math.min(1000, Math.max(1, Number.parseInt(query.get('limit') ?? '100', 10) || 100));
    const cursor = query.get('cursor');
    let from = 0;
    if (cursor) {
      const m = /^(.+):(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
      if (!m || m[1] !== job.id || Number(m[2]) > job.results.length) return fail(400, `Invalid cursor '${cursor}'.`);
      from = Number(m[2]);
    }
    const to = Math.min(job.results.length, from + limit);
    const more = to < job.results.length;
    return { object: 'list', data: job.results.slice(from, to), has_more: more,
      next_cursor: more ? Buffer.from(`${job.id}:${to}`).toString('base64url') : null };
  }

  // ---- Anthropic shapes ----

  const anthropicStatus = (job) => (job.ended ? 'ended' : job.status === 'cancelling' ? 'canceling' : 'in_progress');

  function anthropicLine(item) {
    let result;
    if (item.state === 'succeeded') result = { type: 'succeeded', message: item.result };
    else if (item.state === 'failed') {
      const error = item.status === 400 ? { type: 'invalid_request_error', message: item.invalid }
        : { type: 'api_error', message: 'Internal server error' };
      result = { type: 'errored', error: { type: 'error', error } };
    } else result = { type: item.state === 'expired' ? 'expired' : 'canceled' };
    return { custom_id: item.customId, result };
  }

  function anthropicBatch(job) {
    const iso = (ms) => (ms == null ? null : new Date(ms).toISOString());
    const c = job.counts;
    return {
      id: job.id, type: 'message_batch', processing_status: anthropicStatus(job),
      request_counts: { processing: job.items.length - c.succeeded - c.failed - c.expired - c.cancelled,
        succeeded: c.succeeded, errored: c.failed, canceled: c.cancelled, expired: c.expired },
      ended_at: job.ended ? iso(job.endedMs) : null, created_at: iso(job.createdMs), expires_at: iso(job.createdMs + DAY_MS),
      cancel_initiated_at: iso(job.at.cancelling), archived_at: null,
      results_url: job.ended ? `${base}/anthropic/v1/messages/batches/${job.id}/results` : null,
    };
  }

  // A page of some APIs' jobs, newest first, after (or before) the job with the given id.
  function page(apis, query, afterKey, beforeKey) {
    const all = [...jobs.values()].filter((j) => apis.includes(j.api)).reverse();
    const limit = Math.min(100, Math.max(1, Number.parseInt(query.get('limit') ?? '20', 10) || 20));
    const after = query.get(afterKey);
    const before = beforeKey && query.get(beforeKey);
    let from = after ? all.findIndex((j) => j.id === after) + 1 : 0;
    let to = from + limit;
    if (before) { to = Math.max(0, all.findIndex((j) => j.id === before)); from = Math.max(0, to - limit); }
    const data = all.slice(from, to);
    return { data, has_more: before ? from > 0 : to < all.length, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  }

  function batchStats(counters) {
    const mine = [...jobs.values()].filter((j) => j.epoch === epoch);
    const jobsById = {};
    const firstPaid = new Map(); // body hash -> index (in `mine`) of the first job it succeeded in
    mine.forEach((job, i) => {
      const c = job.counts;
      jobsById[job.id] = { api: job.api, status: job.api === 'anthropic' ? anthropicStatus(job) : job.status,
        total: job.items.length, completed: c.succeeded, failed: c.failed + c.expired + c.cancelled, createdAt: job.createdMs };
      for (const item of job.items) if (item.state === 'succeeded' && !firstPaid.has(item.hash)) firstPaid.set(item.hash, i);
    });
    let duplicateRequests = 0;
    mine.forEach((job, i) => {
      for (const item of job.items) if (firstPaid.get(item.hash) < i) duplicateRequests++;
    });
    return { filesUploaded: counters.filesUploaded, jobsCreated: counters.jobsCreated, jobsById,
      requestsSubmitted: counters.requestsSubmitted, duplicateRequests };
  }

  // ---- batch routes ----

  function parseJson(buf) {
    try { return JSON.parse(buf.toString('utf8')); } catch { return undefined; }
  }

  function openAiRoute(req, res, path, buf, query) {
    const out = (status, body, headers) => send(res, status, typeof body === 'string' ? body : JSON.stringify(body), headers, false);
    const fail = (status, message, param = null, type = 'invalid_request_error', code = null) =>
      out(status, { error: { message, type, param, code } });
    if (!authorized(req, false)) return fail(401, 'invalid api key', null, 'authentication_error', 'invalid_api_key');
    const m = /^\/v1\/(files|batches)(?:\/([^/]+))?(?:\/(content|cancel|results))?$/.exec(path);
    const route = m && `${req.method} ${m[1]}${m[2] ? '/:id' : ''}${m[3] ? `/${m[3]}` : ''}`;
    const file = m?.[1] === 'files' && m[2] ? files.get(m[2]) : null;
    const job = m?.[1] === 'batches' && m[2] ? jobs.get(m[2]) : null;
    if (m?.[2] && (m[1] === 'files' ? !file : !job || job.api === 'anthropic')) {
      return fail(404, m[1] === 'files' ? `No such File object: ${m[2]}` : `No such Batch object: ${m[2]}`, 'id');
    }
    switch (route) {
      case 'POST files': return upload(req, buf, out, fail);
      case 'GET files': return out(200, { object: 'list', data: [...files.values()].map(fileObject), has_more: false });
      case 'GET files/:id': return out(200, fileObject(file));
      case 'GET files/:id/content': return out(200, file.content, { 'content-type': 'application/jsonl' });
      case 'DELETE files/:id': files.delete(file.id); return out(200, { id: file.id, object: 'file', deleted: true });
      case 'POST batches': {
        // OpenRouter's shape sends its requests inline; OpenAI's names an uploaded file.
        const body = parseJson(buf);
        const inline = body && typeof body === 'object' && !Array.isArray(body) && 'requests' in body && body.input_file_id === undefined;
        return inline ? createOpenRouterBatch(body, buf.toString('utf8'), out) : createOpenAiBatch(body, out, fail);
      }
      case 'GET batches': {
        const p = page(['openai', 'openrouter'], query, 'after');
        const shape = (j) => (j.api === 'openrouter' ? openRouterBatch(j, true) : openAiBatch(j));
        return out(200, { object: 'list', data: p.data.map(shape), first_id: p.first_id, last_id: p.last_id, has_more: p.has_more });
      }
      case 'GET batches/:id': return out(200, job.api === 'openrouter' ? openRouterBatch(job) : openAiBatch(job));
      case 'GET batches/:id/results': {
        if (job.api !== 'openrouter') return fail(404, `no route ${req.method} ${path}`);
        const orFail = (status, message) => out(status, { error: { code: status, message } });
        const p = openRouterResults(job, query, orFail);
        return p && out(200, p);
      }
      case 'POST batches/:id/cancel': {
        const shape = job.api === 'openrouter' ? openRouterBatch : openAiBatch;
        if (job.ended) {
          const message = `Cannot cancel a batch with status '${job.status}'.`;
          return job.api === 'openrouter' ? out(400, { error: { code: 400, message } }) : fail(400, message);
        }
        if (job.cancelMs == null) cancel(job, Date.now());
        return out(200, shape(job));
      }
      default: return fail(404, `no route ${req.method} ${path}`);
    }
  }

  function upload(req, buf, out, fail) {
    const parts = parseMultipart(buf, req.headers['content-type']);
    if (!parts) return fail(400, 'the body must be multipart/form-data (with a boundary)');
    const purpose = parts.find((p) => p.name === 'purpose')?.data.toString('utf8').trim();
    const part = parts.find((p) => p.name === 'file' && p.filename != null);
    if (!part) return fail(400, "Missing required parameter: 'file'.", 'file');
    if (purpose !== 'batch') return fail(400, `'purpose' must be 'batch' (got ${JSON.stringify(purpose ?? null)}).`, 'purpose');
    const text = part.data.toString('utf8');
    const parsed = parseBatchFile(text);
    if (parsed.error) return fail(400, `Invalid batch input file: ${parsed.error}.`, 'file');
    st.batches.filesUploaded++;
    return out(200, fileObject(addFile(text, part.filename || 'batch.jsonl', 'batch', parsed.requests)));
  }

  function createOpenAiBatch(body, out, fail) {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return fail(400, 'request body must be a JSON object');
    if (typeof body.input_file_id !== 'string') return fail(400, "Missing required parameter: 'input_file_id'.", 'input_file_id');
    if (body.endpoint !== '/v1/chat/completions') return fail(400, "'endpoint' must be '/v1/chat/completions'.", 'endpoint');
    if (body.completion_window !== '24h') return fail(400, "'completion_window' must be '24h'.", 'completion_window');
    if (body.metadata != null && (typeof body.metadata !== 'object' || Array.isArray(body.metadata))) {
      return fail(400, "'metadata' must be an object of strings.", 'metadata');
    }
    const file = files.get(body.input_file_id);
    if (!file) return fail(404, `No such File object: ${body.input_file_id}`, 'input_file_id');
    if (file.purpose !== 'batch' || !file.requests) return fail(400, `File ${file.id} does not have purpose 'batch'.`, 'input_file_id');
    const entries = file.requests.map((r) => {
      const invalid = validate(r.body);
      if (invalid) return { customId: r.customId, body: null, invalid, key: canon(r.body), breakpoint: null };
      const shaped = chatShape(r.body);
      return { customId: r.customId, body: shaped, invalid: null, key: canon(shaped), breakpoint: null };
    });
    const first = file.requests.find((r) => typeof r.body.model === 'string');
    const other = first && file.requests.find((r) => typeof r.body.model === 'string' && r.body.model !== first.body.model);
    const invalid = cfg.batchSingleModel !== false && other ? [{ code: 'model_mismatch', line: other.line, param: 'body.model',
      message: `The model '${other.body.model}' does not match the model '${first.body.model}' of the other requests; a batch runs one model.` }] : null;
    const job = createJob('openai', entries, { endpoint: body.endpoint, completionWindow: body.completion_window,
      inputFileId: file.id, metadata: body.metadata ?? null, invalid });
    return out(200, openAiBatch(job));
  }

  // OpenRouter's create: 202 with the batch; errors in OpenRouter's envelope {error: {code, message}}.
  function createOpenRouterBatch(body, text, out) {
    const bad = checkOpenRouterBatch(body, text);
    if (bad) return out(400, { error: { code: 400, message: bad.message, metadata: { param: bad.param } } });
    const entries = body.requests.map((r) => {
      const full = { ...r.body, model: body.model };
      const invalid = validate(full);
      if (invalid) return { customId: r.custom_id, body: null, invalid, key: canon(full), breakpoint: null };
      const shaped = chatShape(full);
      return { customId: r.custom_id, body: shaped, invalid: null, key: canon(shaped), breakpoint: null };
    });
    const job = createJob('openrouter', entries, { endpoint: body.endpoint, model: body.model, metadata: body.metadata ?? null });
    return out(202, openRouterBatch(job));
  }

  function anthropicRoute(req, res, path, buf, query) {
    const out = (status, body, headers) => send(res, status, typeof body === 'string' ? body : JSON.stringify(body), headers, false);
    const fail = (status, type, message) => out(status, anthropicError(type, message));
    if (cfg.apiKey && req.headers['x-api-key'] !== cfg.apiKey) return fail(401, 'authentication_error', 'invalid x-api-key');
    if (!req.headers['anthropic-version']) return fail(400, 'invalid_request_error', 'anthropic-version: header is required');
    const m = /^\/anthropic\/v1\/messages\/batches(?:\/([^/]+))?(?:\/(results|cancel))?$/.exec(path);
    const route = m && `${req.method} batches${m[1] ? '/:id' : ''}${m[2] ? `/${m[2]}` : ''}`;
    const job = m?.[1] ? jobs.get(m[1]) : null;
    if (m?.[1] && (!job || job.api !== 'anthropic')) return fail(404, 'not_found_error', `No message batch with id ${m[1]}`);
    switch (route) {
      case 'POST batches': {
        const body = parseJson(buf);
        const bad = body === undefined ? 'request body is not valid JSON' : checkAnthropicBatch(body);
        if (bad) return fail(400, 'invalid_request_error', bad);
        const entries = body.requests.map((r) => {
          const c = anthropicToChat(r.params);
          if (c.error) return { customId: r.custom_id, body: null, invalid: c.error, key: canon(r.params), breakpoint: null };
          return { customId: r.custom_id, body: c.body, invalid: null, key: canon(c.body), breakpoint: c.breakpoint };
        });
        return out(200, anthropicBatch(createJob('anthropic', entries)));
      }
      case 'GET batches': {
        const p = page(['anthropic'], query, 'after_id', 'before_id');
        return out(200, { data: p.data.map(anthropicBatch), has_more: p.has_more, first_id: p.first_id, last_id: p.last_id });
      }
      case 'GET batches/:id': return out(200, anthropicBatch(job));
      case 'GET batches/:id/results':
        if (!job.ended) return fail(400, 'invalid_request_error', `Message batch ${job.id} is still ${anthropicStatus(job)}; results are available once it has ended.`);
        return out(200, job.results, { 'content-type': 'application/jsonl' });
      case 'POST batches/:id/cancel':
        if (!job.ended && job.cancelMs == null) cancel(job, Date.now());
        return out(200, anthropicBatch(job));
      default: return fail(404, 'not_found_error', `no route ${req.method} ${path}`);
    }
  }

  // ---- server ----

  const isUpload = (method, path) => method === 'POST' &&
    (path === '/v1/files' || path === '/v1/batches' || path === '/anthropic/v1/messages/batches');
  const isBatchRoute = (path) => /^\/v1\/(files|batches)(\/|$)/.test(path) || /^\/anthropic\/v1\/messages\/batches(\/|$)/.test(path);
  const preflight = (path) => (path.startsWith('/anthropic/') ? ANTHROPIC_PREFLIGHT : path.startsWith('/v1/files') ? FILES_PREFLIGHT : PREFLIGHT);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const asked = url.pathname.replace(/\/+$/, '');
    // /openrouter/v1/… is /v1/… (a base URL that names OpenRouter, for clients that pick
    // OpenRouter's batch protocol by the URL).
    const path = /^\/openrouter\/v1(\/|$)/.test(asked) ? asked.slice('/openrouter'.length) : asked;
    const limit = isUpload(req.method, path) ? MAX_UPLOAD : MAX_BODY;
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => {
      if (req.method === 'OPTIONS') { res.writeHead(204, preflight(path)); return res.end(); }
      if (size > limit) return send(res, 413, errBody('body too large', 'invalid_request_error', 'too_large'), {}, false);
      const buf = Buffer.concat(chunks);
      advanceAll(Date.now());
      const route = `${req.method} ${path}`;
      if (route === 'POST /v1/chat/completions') return chat(req, res, buf.toString('utf8'), false);
      if (route === 'POST /anthropic/v1/chat/completions') return chat(req, res, buf.toString('utf8'), true);
      if (isBatchRoute(path)) {
        if (cfg.batchApi === false) return send(res, 404, JSON.stringify({ error: { message: 'Not found' } }), {}, false);
        return (path.startsWith('/anthropic/') ? anthropicRoute : openAiRoute)(req, res, path, buf, url.searchParams);
      }
      if (route === 'GET /v1/models') return send(res, 200, modelList(), {}, false);
      if (route === 'GET /_stats') return send(res, 200, JSON.stringify(stats()), {}, false);
      if (route === 'POST /_reset') { reset(); return send(res, 200, '{"ok":true}', {}, false); }
      if (route === 'POST /_configure') {
        try { configure(JSON.parse(buf.toString('utf8') || '{}')); } catch {
          return send(res, 400, errBody('configure body is not valid JSON', 'invalid_request_error', 'invalid_json'), {}, false);
        }
        return send(res, 200, '{"ok":true}', {}, false);
      }
      send(res, 404, errBody(`no route ${req.method} ${asked}`, 'invalid_request_error', 'not_found'), {}, false);
    });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const port = server.address().port;
  base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/v1`,
    openrouterUrl: `${base}/openrouter/v1`,
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
    else if (['port', 'latency-ms', 'jitter-ms', 'retry-after-seconds', 'seed', 'tokens-per-second', 'batch-delay-ms'].includes(flag)) {
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
