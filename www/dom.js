// www/dom.js owns how the page builds DOM: `h(tag, attributes, ...children)` makes an element
// whose string children become text nodes, never markup. Every view builds its DOM with it, so
// text from files or from a model cannot become HTML by accident; the one place that turns
// markdown into HTML is www/markdown.js, which escapes and sanitises.

/**
 * @param {string} tag
 * @param {Record<string, unknown> | null} [attrs] `class`, `dataset` (an object), `on<event>`
 *   handlers, boolean and string attributes; null/false/undefined values are skipped
 * @param {...(Node | string | number | null | undefined | false | Array)} children
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** Money as the CLI shows it: cents, or four decimals below a cent. */
export function usd(x) {
  if (x == null || !Number.isFinite(x)) return '–';
  if (x > 0 && x < 0.01) return `$${x.toFixed(4)}`;
  return `$${x.toFixed(2)}`;
}

/** A duration in milliseconds as `45s`, `3m05s`, `2h10m`; `–` when unknown. */
export function duration(ms) {
  if (!Number.isFinite(ms)) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Saves bytes as a download. */
export function download(bytes, name, type = 'application/octet-stream') {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
