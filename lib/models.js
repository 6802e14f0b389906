// lib/models.js owns fetching a provider's model list, `GET <base>/models`, for both hosts (the
// CLI and the page's worker): the core reads current prices and the ids a provider serves from
// its text (`planBatch`, `runBatch` and `calibrateBatch` take it as `openrouterModels`;
// `checkModels` checks a config's model ids against it). Which key to send, and what to say
// when the list cannot be had, are the host's to decide.
//
//   const list = await fetchModelList(baseUrl, apiKey);
//   if (list.error) warn(`could not fetch the model list from ${list.url} (${list.error})`);
//   else await runBatch(path, storage, connection, { openrouterModels: list.text });
//
// The key goes only to `base` (OpenRouter's API when none is given), as a Bearer token, and
// never into a result: an error message that happens to hold it has it replaced by `<key>`.

/**
 * What `fetchModelList` resolves to: the list's `text` (for the core's `openrouterModels` and
 * `checkModels`), or an `error` saying why there is none. `url` is the address asked.
 * @typedef {{ url: string, text: string, error?: undefined } | { url: string, text?: undefined, error: string }} ModelList
 */

/** OpenRouter's API, the default base URL. */
export const OPENROUTER_BASE = 'https://openrouter.ai/api/v1';

/** How long the list may take to arrive. */
export const MODELS_TIMEOUT_MS = 10_000;

/**
 * `base` without trailing slashes; OpenRouter's API when empty.
 * @param {string | null | undefined} base
 * @returns {string}
 */
export function modelsBase(base) {
  return (base || OPENROUTER_BASE).replace(/\/+$/, '');
}

/**
 * Fetches the model list of the server at `base` with `key`. Never throws: resolves to
 * `{ url, text }` when the answer is a model list (JSON with a `data` list; `text` is its
 * text, for the core), else to `{ url, error }` saying why not (HTTP status, timeout, not JSON).
 * @param {string | null | undefined} base the server's API root (OpenRouter's when empty)
 * @param {string} key the key sent as `Authorization: Bearer <key>`
 * @param {{ timeoutMs?: number }} [options] `timeoutMs`: how long the list may take (default 10 s)
 * @returns {Promise<ModelList>}
 */
export async function fetchModelList(base, key, { timeoutMs = MODELS_TIMEOUT_MS } = {}) {
  const url = `${modelsBase(base)}/models`;
  try {
    const res = await fetch(url, {
      headers: { Authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
    // A proxy's HTML error page or a truncated body is a failed fetch, not a list the core
    // would then refuse as unreadable.
    let doc;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new Error('the answer is not JSON');
    }
    if (!Array.isArray(doc?.data)) throw new Error('the answer has no `data` list');
    return { url, text };
  } catch (e) {
    const why = e?.name === 'TimeoutError' ? `no answer in ${timeoutMs / 1000} s` : (e?.cause?.message ?? e?.message ?? String(e));
    return { url, error: key ? String(why).split(key).join('<key>') : String(why) };
  }
}
