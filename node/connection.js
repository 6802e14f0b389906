// node/connection.js owns where the CLI's requests go and which key goes with them: the
// connection handed to the core for runs (a key is sent only to its own server), and the
// provider's model list (fetched through lib/models.js, which the page's worker shares) with
// the CLI's warning when it cannot be had and its report of model ids the list lacks.

import { randomInt } from 'node:crypto';
import { OPENROUTER_BASE, fetchModelList } from '../lib/models.js';
import { colorFor, err, paint, plural, warn } from './output.js';

/** Where requests go and which key goes with them. A key is sent only to its own server. */
export function connection(values) {
  const base = (values['base-url'] ?? process.env.SCENARIO_LAB_BASE_URL ?? '').replace(/\/+$/, '');
  const apiKey = !base || base === OPENROUTER_BASE ? process.env.OPENROUTER_API_KEY : process.env.SCENARIO_LAB_API_KEY;
  return {
    baseUrl: base || undefined,
    apiKey: apiKey || undefined,
    ollamaBaseUrl: process.env.OLLAMA_BASE_URL || undefined,
    freshSeed: randomInt(0, 2 ** 47),
  };
}

/**
 * Where the provider's model list is, and the key that reads it: the server of --base-url (else
 * SCENARIO_LAB_BASE_URL, else OpenRouter); OPENROUTER_API_KEY for OpenRouter, SCENARIO_LAB_API_KEY
 * for another server. Without SCENARIO_LAB_API_KEY, OPENROUTER_API_KEY is sent to that other
 * server too (to read prices, as it always was), unlike a run's requests (see `connection`).
 */
export function modelSource(values) {
  const base = (values['base-url'] || process.env.SCENARIO_LAB_BASE_URL || OPENROUTER_BASE).replace(/\/+$/, '');
  const key = base === OPENROUTER_BASE
    ? process.env.OPENROUTER_API_KEY
    : process.env.SCENARIO_LAB_API_KEY || process.env.OPENROUTER_API_KEY;
  return { base, key: key || undefined };
}

/**
 * The text of GET {base}/models, or null after one warning line. The key is never printed.
 * `purpose` words the warning: 'prices' (a run: prices, then model ids) or 'ids' (validate:
 * model ids only).
 */
export async function fetchModels(base, key, purpose = 'prices') {
  const list = await fetchModelList(base, key);
  if (list.text !== undefined) return list.text;
  warn(purpose === 'ids'
    ? `warning: could not fetch the model list from ${list.url} (${list.error}); model ids were not checked`
    : `warning: could not fetch model prices from ${list.url} (${list.error}); using the built-in price table, and model ids were not checked`);
  return null;
}

/** One line per model id the provider does not list (the core's words), then where it looked. */
export function reportUnknownModels(check, base, severity) {
  if (!check.unknown.length) return;
  const color = colorFor(process.stderr, false);
  const label = severity === 'error' ? paint('red', 'error:', process.stderr, color) : paint('yellow', 'warning:', process.stderr, color);
  for (const u of check.unknown) err(`scenario-lab: ${label} ${u.message}`);
  err(`scenario-lab: (checked against the ${plural(check.listed, 'model')} listed by ${base}/models; fix the id in the batch config or its scenario)`);
}
