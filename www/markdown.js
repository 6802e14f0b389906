// www/markdown.js owns turning run files (markdown written around LLM output) into DOM. LLM
// output is untrusted text, so two independent layers stand between it and the page:
//
// 1. marked renders markdown with every raw HTML token escaped: `<script>` and
//    `<img src=x onerror=...>` come out as the visible text they are. Images are shown as their
//    markdown text (a model's image URL is never fetched: that would let a reply make the page
//    call a server of its choosing), and links keep only http(s) and mailto targets.
// 2. DOMPurify sanitises marked's output anyway (no scripts, handlers, styles, forms, frames,
//    other URL schemes), in case a renderer bug lets something through.
//
// The result is a DocumentFragment, never assigned through innerHTML. The vendored libraries are
// loaded on first use, so the page's first load does not pay for them.

let renderer = null;

const escapeHtml = (s) => String(s)
  .replaceAll('&', '&amp;')
  .replaceAll('<', '&lt;')
  .replaceAll('>', '&gt;')
  .replaceAll('"', '&quot;')
  .replaceAll("'", '&#39;');

const SAFE_URL = /^(?:https?:|mailto:)/i;

async function load() {
  const [{ Marked }, { default: DOMPurify }] = await Promise.all([
    import('./vendor/marked.js'),
    import('./vendor/purify.js'),
  ]);
  const marked = new Marked({
    gfm: true,
    async: false,
    renderer: {
      html(token) {
        const text = escapeHtml(token.text);
        return token.block ? `<p>${text}</p>\n` : text;
      },
      image({ raw }) {
        return escapeHtml(raw);
      },
      link({ href, tokens }) {
        const inner = this.parser.parseInline(tokens);
        if (!SAFE_URL.test(href ?? '')) return inner;
        return `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer nofollow">${inner}</a>`;
      },
    },
  });
  const purify = DOMPurify;
  purify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A') {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  });
  const options = {
    ALLOWED_URI_REGEXP: SAFE_URL,
    FORBID_TAGS: ['style', 'img', 'svg', 'math', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed', 'video', 'audio', 'source', 'picture'],
    FORBID_ATTR: ['style', 'class', 'id', 'srcset'],
    ADD_ATTR: ['target'],
    RETURN_DOM_FRAGMENT: true,
  };
  return (text) => purify.sanitize(marked.parse(String(text ?? '')), options);
}

/** A DocumentFragment with `text` rendered as safe markdown. */
export async function renderMarkdown(text) {
  renderer ??= load();
  return (await renderer)(text);
}
