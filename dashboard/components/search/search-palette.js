/**
 * The search palette: full-text search over every transcript (GET /api/search, docs/search.md).
 *
 * Opens on Ctrl+K / ⌘K anywhere (this component listens for it) and from the top bar's "Search"
 * button; a modal over the page. The query is sent 150 ms after the last keystroke (the request
 * before it aborted); hits come grouped by session (search-results.js). ↑/↓ move through the
 * hits, Enter (or a click) opens the conversation at that message (`onPick`), Esc closes and
 * gives the focus back. While the server is still building its index the palette says how far
 * it got and asks again every 2 s (only then, only while open and the page is visible: the one
 * fetch over time outside lib/stream.js, and it ends by itself); a failure shows the server's
 * words and stops that.
 */
import { html, useEffect, useLayoutEffect, useMemo, useRef, useState } from "../../lib/preact.js";
import { getJSON } from "../../lib/api.js";
import { groupHits, indexProgress } from "../../state/search.js";
import { SearchResults } from "./search-results.js";
import { SearchStyle } from "./search-style.js";
import { SHORTCUT } from "./search-button.js";

const DEBOUNCE_MS = 150;
const REFRESH_MS = 2000;
const LIMIT = 50;

/** Ask the server for `q` (debounced) while `open`; return {answer, error, busy}. */
function useSearch(open, q, thinking) {
  const [state, setState] = useState({ answer: null, error: "", busy: false });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!open) return undefined;
    const ctrl = new AbortController();
    const timer = setTimeout(() => {
      setState((s) => ({ ...s, busy: true }));
      const query = new URLSearchParams({ q, limit: String(LIMIT) });
      if (thinking) query.set("thinking", "1");
      getJSON(`/api/search?${query}`, { signal: ctrl.signal }).then(
        (answer) => setState({ answer: { ...answer, q }, error: "", busy: false }),
        (e) => {
          if (e && e.name === "AbortError") return;
          setState((s) => ({ ...s, error: e.message || "Search failed", busy: false }));
        });
    }, DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      ctrl.abort();
    };
  }, [open, q, thinking, tick]);
  const building = open && !state.error && state.answer && state.answer.index && !state.answer.index.ready;
  useEffect(() => {
    if (!building) return undefined;
    const timer = setInterval(() => { if (!document.hidden) setTick((n) => n + 1); }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [building]);
  return state;
}

/** Props: open, onOpen(), onClose(), onPick(hit), sessions (the live ones, for their status). */
export function SearchPalette({ open, onOpen, onClose, onPick, sessions }) {
  const [q, setQ] = useState("");
  const [thinking, setThinking] = useState(false);
  const [selected, setSelected] = useState(0);
  const input = useRef(null);
  const before = useRef(null); // what had the focus before the palette opened
  const { answer, error, busy } = useSearch(open, q, thinking);
  const groups = useMemo(() => groupHits(answer && answer.q === q ? answer.results : []), [answer, q]);
  const hits = groups.flatMap((g) => g.hits);
  const live = useMemo(() => new Map((sessions || []).map((s) => [s.session_id, s])), [sessions]);

  useEffect(() => {
    const onKey = (e) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && (e.key === "k" || e.key === "K")) {
        e.preventDefault();
        if (input.current) input.current.select();
        onOpen();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [onOpen]);
  // Layout effects: the focus moves in the same task as the page's `inert` changes.
  useLayoutEffect(() => {
    if (open) {
      const active = document.activeElement;
      before.current = active && active !== document.body ? active : null;
      if (input.current) {
        input.current.focus();
        input.current.select();
      }
    } else if (before.current) {
      const back = before.current;
      before.current = null;
      if (back.isConnected) back.focus();
    }
  }, [open]);
  useEffect(() => setSelected(0), [answer]);
  useEffect(() => {
    const node = open && document.getElementById(`search-hit-${selected}`);
    if (node) node.scrollIntoView({ block: "nearest" });
  }, [selected, open]);

  const close = () => onClose(); // the effect above gives the focus back
  const pick = (hit) => {
    before.current = null;
    onPick(hit);
  };
  const onKeyDown = (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (hits.length) setSelected(Math.max(0, Math.min(hits.length - 1, selected + (e.key === "ArrowDown" ? 1 : -1))));
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (hits[selected]) pick(hits[selected]);
    } else if (e.key === "Escape") {
      e.preventDefault();
      close();
    }
  };

  const index = answer && answer.index;
  const progress = indexProgress(index);
  const none = !busy && !error && answer && answer.q === q && q.trim() && !hits.length;
  return html`<${SearchStyle} />${open && html`<div class="backdrop modal search-backdrop"
      onClick=${(e) => { if (e.target === e.currentTarget) close(); }}>
    <section class="search-palette" role="dialog" aria-modal="true" aria-label="Search transcripts"
        data-testid="search-palette" onKeyDown=${onKeyDown}>
      <div class="search-bar">
        <input ref=${input} type="search" data-testid="search-input" placeholder="Search every transcript…"
          aria-label="Search every transcript" role="combobox" aria-expanded=${hits.length ? "true" : "false"}
          aria-controls="search-results" aria-autocomplete="list" autocomplete="off" spellcheck="false"
          aria-activedescendant=${hits.length ? `search-hit-${selected}` : undefined}
          value=${q} onInput=${(e) => setQ(e.currentTarget.value)} />
        <label><input type="checkbox" data-testid="search-thinking" checked=${thinking}
          onChange=${(e) => setThinking(e.currentTarget.checked)} /> Include thinking</label>
      </div>
      ${progress && html`<p class="search-note" role="status" data-testid="search-progress">${progress}
        ${index.files_total > 0 && html`<progress max=${index.files_total} value=${index.files_done}></progress>`}</p>`}
      ${error && html`<p class="search-note error" role="alert" data-testid="search-error">${error}</p>`}
      ${index && index.error && !error && html`<p class="search-note error" role="alert" data-testid="search-error">${index.error}</p>`}
      ${none && html`<p class="search-note" data-testid="search-empty">No matches${progress ? " yet" : ""}.</p>`}
      ${hits.length > 0 && html`<${SearchResults} groups=${groups} selected=${selected} live=${live}
        onPick=${pick} onHover=${setSelected} />`}
      <p class="search-keys">↑ ↓ move · Enter opens · Esc closes · ${SHORTCUT} anywhere ·
        whole words; word* for a prefix; "a phrase"</p>
    </section>
  </div>`}`;
}
