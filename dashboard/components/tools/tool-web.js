/**
 * WebFetch and WebSearch (and Codex's web_search) as links: the page fetched, or the query and
 * the results it found (their titles and URLs, as Claude Code writes them in the result:
 * `{"title": ..., "url": ...}` entries, else any bare URL). A link is an <a> only for http(s)
 * (common/markdown.js safeHref); anything else stays visible as text. The fetched text is shown as
 * plain text, collapsed.
 */
import { html, useMemo } from "../../lib/preact.js";
import { clean } from "../../state/text.js";
import { safeHref } from "../common/markdown.js";
import { LongText } from "../common/long-text.js";

const MAX_LINKS = 50;
const TITLED = /"title"\s*:\s*"((?:[^"\\]|\\.){0,500})"\s*,\s*"url"\s*:\s*"((?:[^"\\]|\\.){1,2000})"/g;
const BARE = /\bhttps?:\/\/[^\s"'<>()\]]{1,2000}/g;
const str = (v) => (typeof v === "string" ? v : "");

function unescape(s) {
  try {
    return JSON.parse(`"${s}"`);
  } catch (e) {
    return s;
  }
}

/** Return the links a search result lists: [{title, url}] (at most MAX_LINKS, no duplicates). */
export function resultLinks(result) {
  const text = typeof result === "string" ? result.slice(0, 200000) : "";
  const seen = new Set();
  const out = [];
  const add = (title, url) => {
    if (seen.has(url) || out.length >= MAX_LINKS) return;
    seen.add(url);
    out.push({ title, url });
  };
  let m;
  TITLED.lastIndex = 0;
  while ((m = TITLED.exec(text)) !== null) add(unescape(m[1]), unescape(m[2]));
  if (!out.length) for (const url of text.match(BARE) || []) add("", url.replace(/[.,;:]+$/, ""));
  return out;
}

function Link({ url, title, testid }) {
  const href = safeHref(url);
  const label = clean(title || url, 500);
  return href
    ? html`<a href=${href} target="_blank" rel="noopener noreferrer nofollow" data-testid=${testid}>${label}</a>`
    : html`<span class="unsafe-link" data-testid=${testid}>${label}</span>`;
}

/** Props: call ({name, input, result, is_error}), parts ({inputOmitted, resultOmitted, hasResult, failed, omitted}). */
export function ToolWeb({ call, parts }) {
  const a = call.input && typeof call.input === "object" ? call.input : {};
  const action = a.action && typeof a.action === "object" ? a.action : {};
  const url = str(a.url) || str(action.url);
  const query = str(a.query) || str(action.query);
  const fetch = !!url && !query;
  const links = useMemo(() => (fetch || parts.failed ? [] : resultLinks(call.result)),
    [call.result, fetch, parts.failed]);
  const domains = [].concat(Array.isArray(a.allowed_domains) ? a.allowed_domains : []).filter((d) => typeof d === "string");
  return html`<div class="web-view" data-testid="tool-web">
    <div class="web-head" data-testid="tool-input">
      ${parts.inputOmitted ? parts.omitted("Input", "input") : fetch
        ? html`<${Link} url=${url} testid="web-url" />${a.prompt && html`<span class="muted web-prompt" data-testid="web-prompt">${clean(a.prompt, 1000)}</span>`}`
        : html`<span class="web-query" data-testid="web-query">“${clean(query, 500)}”</span>
            ${domains.length > 0 && html`<span class="muted">on ${clean(domains.join(", "), 300)}</span>`}`}
    </div>
    ${links.length > 0 && html`<ol class="web-links" data-testid="web-links">
      ${links.map((l, i) => html`<li key=${i}><${Link} url=${l.url} title=${l.title} testid="web-link" /></li>`)}
    </ol>`}
    ${parts.hasResult && html`<details class=${`web-result tool-part${parts.failed ? " failed" : ""}`} data-testid="tool-result"
        open=${parts.failed || (!fetch && !links.length)}>
      <summary class="part-label">${parts.failed ? "Error" : fetch ? "What came back" : "Result"}</summary>
      ${call.result != null && html`<${LongText} text=${typeof call.result === "string" ? call.result
        : JSON.stringify(call.result, null, 2)} mono=${true} limit=${2000} />`}
      ${parts.resultOmitted && parts.omitted("Output", "result")}
    </details>`}
  </div>`;
}
