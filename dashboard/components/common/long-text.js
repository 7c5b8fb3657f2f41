/**
 * Transcript text that may be huge: cut to `limit` characters (and stripped of ANSI escapes)
 * before anything renders or parses it, with a "Show more" button that reveals four times as much
 * each time. Markdown is parsed only from the shown part, and never beyond MARKDOWN_MAX characters
 * (past that the text is shown plain, so a 1 MB line cannot stall the page).
 */
import { html, useMemo, useState } from "../../lib/preact.js";
import { clip } from "../../state/text.js";
import { Markdown } from "./markdown.js";

export const DEFAULT_LIMIT = 4000;
const MARKDOWN_MAX = 60000;

/** Props: text, markdown (bool), mono (bool: preformatted, for JSON and tool output), limit. */
export function LongText({ text, markdown = false, mono = false, limit = DEFAULT_LIMIT }) {
  const [shown, setShown] = useState(limit);
  const part = useMemo(() => clip(text, shown), [text, shown]);
  if (!part.text && !part.rest) return null;
  let body;
  if (markdown && part.text.length <= MARKDOWN_MAX) body = html`<${Markdown} text=${part.text} />`;
  else if (mono) body = html`<pre class="mono-block">${part.text}</pre>`;
  else body = html`<div class="plain">${part.text}</div>`;
  return html`<div class="long-text">
    ${body}
    ${part.rest > 0 && html`<button type="button" class="show-more" data-testid="show-more"
        onClick=${() => setShown((n) => n * 4)}>Show more (${part.rest.toLocaleString()} more characters)</button>`}
  </div>`;
}
