/**
 * One search hit's snippet: text with the matched terms as <mark> elements. The server marks them
 * with two private-use characters (docs/search.md); state.snippetParts splits on them, and every
 * piece is a text node: transcript text is never parsed as HTML.
 */
import { html } from "../../lib/preact.js";
import { snippetParts } from "../../state/search.js";

/** Props: snippet (the server's text with markers). */
export function SearchSnippet({ snippet }) {
  return html`<span class="search-snippet" data-testid="search-snippet">${snippetParts(snippet).map((p, i) =>
    (p.hit ? html`<mark key=${i}>${p.text}</mark>` : p.text))}</span>`;
}
