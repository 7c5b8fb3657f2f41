/**
 * The search palette's styles, kept with it (one <style> element, static text: no transcript
 * text ever reaches it). Colours come from style.css's variables, so light and dark both hold.
 */
import { html } from "../../lib/preact.js";

const CSS = `
.search-backdrop { z-index: 30; }
.search-palette {
  width: min(760px, 100%); max-height: min(640px, 84vh); display: flex; flex-direction: column;
  background: var(--bg); border: 1px solid var(--border); border-radius: var(--radius);
  box-shadow: 0 8px 24px rgba(0, 0, 0, 0.25); overflow: hidden;
}
.search-palette:focus { outline: none; }
.search-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; padding: 10px 12px;
  border-bottom: 1px solid var(--border); background: var(--surface); }
.search-bar input[type="search"] { flex: 1 1 240px; min-width: 0; font-size: 16px; padding: 7px 10px; }
.search-bar label { display: flex; align-items: center; gap: 6px; font-size: 13px; color: var(--muted); }
.search-note { margin: 0; padding: 8px 12px; font-size: 13px; color: var(--muted); }
.search-note progress { width: 120px; margin-left: 8px; vertical-align: middle; }
.search-note.error { color: var(--danger); }
.search-results { flex: 1 1 auto; min-height: 0; overflow: auto; margin: 0; padding: 0 0 6px; list-style: none; }
.search-group { margin: 0; padding: 0; }
.search-group-head { position: sticky; top: 0; display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline;
  padding: 6px 12px; font-size: 12px; color: var(--muted); background: var(--surface-2);
  border-top: 1px solid var(--border); }
.search-group-head .search-project { color: var(--text); font-weight: 600; overflow-wrap: anywhere; }
.search-group-head .search-title { flex-basis: 100%; color: var(--text); overflow-wrap: anywhere; }
.search-hit { display: flex; gap: 8px; padding: 6px 12px 6px 16px; cursor: pointer; font-size: 13px;
  border-left: 3px solid transparent; overflow-wrap: anywhere; }
.search-hit .who { flex: 0 0 5em; color: var(--muted); }
.search-hit[aria-selected="true"] { background: var(--surface); border-left-color: var(--accent); }
.search-hit mark { background: var(--att-bg); color: inherit; border-radius: 2px; padding: 0 1px; }
.search-keys { margin: 0; padding: 6px 12px; font-size: 12px; color: var(--muted); border-top: 1px solid var(--border); }
.search-open kbd { font-size: 11px; margin-left: 4px; }
[data-search-hit="true"] { outline: 2px solid var(--accent); outline-offset: 2px; border-radius: var(--radius); }
@media (max-width: 600px) { .search-backdrop.modal { padding: 0; } .search-palette { max-height: 100vh; height: 100%; border-radius: 0; } }
`;

export function SearchStyle() {
  return html`<style>${CSS}</style>`;
}
