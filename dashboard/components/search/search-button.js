/**
 * The top bar's "Search" button: opens the search palette (as Ctrl+K / ⌘K does anywhere).
 */
import { html } from "../../lib/preact.js";

const MAC = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform || "");
export const SHORTCUT = MAC ? "⌘K" : "Ctrl+K";

/** Props: onClick(). */
export function SearchButton({ onClick }) {
  return html`<button type="button" class="search-open" data-testid="search-open" onClick=${onClick}
      title=${`Search every transcript (${SHORTCUT})`} aria-keyshortcuts=${MAC ? "Meta+K" : "Control+K"}>
    Search <kbd class="muted">${SHORTCUT}</kbd></button>`;
}
