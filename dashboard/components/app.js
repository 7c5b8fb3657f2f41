/**
 * The dashboard's root: owns the server state (fed by lib/stream.js), the filters, the open
 * conversation, dismissals, alert opt-ins and the global keyboard shortcuts (j/k, /, Esc; Enter
 * and digits are handled by the focused card). Everything it derives comes from the pure
 * functions of state/. With remotes (a hub) it shows the machine strip and provides
 * MachinesContext to the cards and the filter bar.
 */
import { html, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "../lib/preact.js";
import { watchServer } from "../lib/stream.js";
import { useDismissals } from "../lib/dismissals.js";
import {
  beep, loadPrefs, notificationPermission, notify, requestNotifications, savePrefs, unlockAudio,
} from "../lib/alerts.js";
import { hasRemotes, machineNames, machineOf } from "../state/machines.js";
import {
  countByStatus, filterSessions, newlyNeedingAttention, pageTitle, projectsOf, reasonText,
} from "../state/sessions.js";
import { clockSkew } from "../state/text.js";
import { TopBar } from "./board/top-bar.js";
import { ConnectionBanner } from "./board/connection-banner.js";
import { SetupBanner } from "./board/setup-banner.js";
import { Overview } from "./board/overview.js";
import { UndoToast } from "./board/undo-toast.js";
import { Conversation } from "./conversation/conversation.js";
import { NewSessionForm } from "./board/new-session-form.js";
import { MachineStrip } from "./machines/machine-strip.js";
import { AddMachine } from "./machines/add-machine.js";
import { MachinesContext } from "./machines/machine-context.js";
import { SearchPalette } from "./search/search-palette.js";
import { sessionFromHit } from "../state/search.js";
import { ActivityView } from "./activity/activity-view.js";
import { UsageView } from "./usage/usage-view.js";
import { HistoryView } from "./history/history-view.js";

const CARD = 'article[data-testid="session-card"]';
const isEditable = (el) => !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

/** Move keyboard focus to the next (dir 1) or previous (dir -1) card, in page order. */
function moveFocus(dir) {
  const cards = [...document.querySelectorAll(CARD)];
  if (!cards.length) return;
  const active = document.activeElement;
  const i = cards.indexOf(active && active.closest ? active.closest(CARD) : null);
  const next = i < 0 ? (dir > 0 ? 0 : cards.length - 1) : Math.min(cards.length - 1, Math.max(0, i + dir));
  cards[next].focus();
  cards[next].scrollIntoView({ block: "nearest" });
}

const NO_FILTERS = { project: "", text: "", machine: null }; // machine: null = all, "" = this one

/**
 * Return MachinesContext's value; the same object until something a card or the filter shows
 * changes (the machine filter's names, a state, the last seen of a machine that is not online).
 */
function useMachinesValue(machines, sessions) {
  const remotes = hasRemotes(machines, sessions);
  const names = remotes ? machineNames(machines, sessions) : [];
  const byName = Object.fromEntries(machines.map((m) => [m.name,
    { state: m.state, last_seen: m.state === "online" ? null : m.last_seen }]));
  const key = JSON.stringify([remotes, names, byName]);
  return useMemo(() => ({ remotes, names, byName }), [key]);
}

function focusCard(id) {
  const card = [...document.querySelectorAll(CARD)].find((c) => c.dataset.sessionId === id);
  if (card) card.focus();
}

export function App() {
  const [server, setServer] = useState(null);
  const [skew, setSkew] = useState(0);
  const [conn, setConn] = useState({ status: "connecting", error: "" });
  const [stream, setStream] = useState(null); // {follow, unfollow}: for the conversation panel
  const [filters, setFilters] = useState(NO_FILTERS);
  const [open, setOpen] = useState(null); // {id, session}: the conversation shown, with its last known record
  const [prefs, setPrefs] = useState(loadPrefs);
  const [permission, setPermission] = useState(notificationPermission);
  const dismissals = useDismissals();
  const textRef = useRef(null);
  const prevSessions = useRef(null);
  const prefsRef = useRef(prefs);
  prefsRef.current = prefs;
  const openRef = useRef(open);
  openRef.current = open;
  const returnFocus = useRef(null);
  const serverTime = useRef(null);
  const [creating, setCreating] = useState(false); // the "New session" dialog is open
  const [started, setStarted] = useState(""); // id of the session just started: focus its card
  const [added, setAdded] = useState(""); // name of the machine just added: focus it in the strip
  const [searching, setSearching] = useState(false); // the search palette is open (Ctrl+K)
  const [activity, setActivity] = useState(false); // the Activity view is open
  const [view, setView] = useState(""); // "usage" | "history": that view is open (docs/usage.md)

  useEffect(() => {
    const watcher = watchServer({
      onState,
      onConnection: (status, error) => setConn({ status, error: error ? error.message : "" }),
    });
    setStream(watcher);
    return watcher.stop;
  }, []);

  function onState(state) {
    const sessions = Array.isArray(state.sessions) ? state.sessions : [];
    // Only snapshots and polls carry the clock; session events keep the last skew.
    if (state.server_time && state.server_time !== serverTime.current) {
      serverTime.current = state.server_time;
      setSkew(clockSkew(state.server_time, Date.now()));
    }
    const fresh = newlyNeedingAttention(prevSessions.current, sessions);
    prevSessions.current = sessions;
    if (fresh.length && prefsRef.current.notify) {
      fresh.forEach((s) => notify(`${s.project || "A session"}${machineOf(s) ? ` on ${machineOf(s)}` : ""} needs attention`,
        reasonText(s), s.session_id));
    }
    if (fresh.length && prefsRef.current.sound) beep();
    setServer({ ...state, sessions });
  }

  useEffect(() => {
    if (server) dismissals.prune(server.sessions);
  }, [server]);

  const all = server ? server.sessions.filter((s) => !dismissals.hidden.has(s.session_id)) : [];
  const machines = (server && server.machines) || [];
  const machinesValue = useMachinesValue(machines, all);
  // The machine filter only applies while it is shown (the remotes may all be removed).
  const shown = filterSessions(all, machinesValue.remotes ? filters : { ...filters, machine: null });
  const counts = countByStatus(all);
  const waiting = counts.needs_attention || 0;

  useEffect(() => {
    document.title = pageTitle(waiting);
  }, [waiting]);

  // Stable across renders, so the memoised cards do not all re-render on every change.
  const openConversation = useCallback((session) => {
    returnFocus.current = session.session_id;
    setOpen({ id: session.session_id, session });
  }, []);
  const close = () => setOpen(null);
  // A search hit: its session's conversation (the live record when there is one), at that message.
  const openSearch = useCallback(() => setSearching(true), []);
  const openHit = useCallback((hit) => {
    setSearching(false);
    returnFocus.current = hit.session_id;
    setOpen({ id: hit.session_id, session: sessionFromHit(hit), messageId: hit.message_id });
  }, []);

  // Layout effect: focus returns in the same task as the close, so a key pressed right after
  // (e.g. "/") is not overtaken by a late focus change. Never steal focus the user moved.
  useLayoutEffect(() => {
    if (!open && returnFocus.current) {
      const active = document.activeElement;
      if (!active || active === document.body) focusCard(returnFocus.current);
      returnFocus.current = null;
    }
  }, [open]);

  useEffect(() => {
    const onKey = (e) => {
      if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.key === "Escape") {
        if (openRef.current) {
          e.preventDefault();
          setOpen(null);
        }
        return;
      }
      if (openRef.current || isEditable(e.target)) return;
      if (e.key === "/") {
        e.preventDefault();
        if (textRef.current) {
          textRef.current.focus();
          textRef.current.select();
        }
      } else if (e.key === "j" || e.key === "k") {
        e.preventDefault();
        moveFocus(e.key === "j" ? 1 : -1);
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  useEffect(() => {
    if (!prefs.sound) return undefined;
    // Browsers only start audio after a gesture: wake the AudioContext on the first one.
    const wake = () => unlockAudio();
    document.addEventListener("pointerdown", wake, { once: true });
    document.addEventListener("keydown", wake, { once: true });
    return () => {
      document.removeEventListener("pointerdown", wake);
      document.removeEventListener("keydown", wake);
    };
  }, [prefs.sound]);

  const updatePrefs = (next) => {
    setPrefs(next);
    savePrefs(next);
  };
  const onToggle = async (kind) => {
    if (kind === "sound") {
      const next = { ...prefs, sound: !prefs.sound };
      if (next.sound) {
        unlockAudio();
        beep();
      }
      updatePrefs(next);
    } else if (prefs.notify && permission === "granted") {
      updatePrefs({ ...prefs, notify: false });
    } else {
      const result = await requestNotifications();
      setPermission(result);
      updatePrefs({ ...prefsRef.current, notify: result === "granted" });
    }
  };

  useEffect(() => {
    if (started && all.some((s) => s.session_id === started)) {
      focusCard(started);
      setStarted("");
    }
  });
  useEffect(() => {
    const item = added && document.querySelector(`[data-testid="machine"][data-machine="${CSS.escape(added)}"] button`);
    if (item) {
      item.focus();
      setAdded("");
    }
  });
  const pickMachine = (name) => setFilters((f) => ({ ...f, machine: f.machine === name ? null : name }));
  // Sessions start on this machine: suggest only its directories.
  const knownDirs = [...new Set(all.filter((s) => !machineOf(s)).map((s) => s.project_dir).filter(Boolean))].sort();
  const onStarted = (id) => {
    setCreating(false);
    setStarted(id);
  };

  const openSession = open && (all.find((s) => s.session_id === open.id) || open.session);
  return html`<${MachinesContext.Provider} value=${machinesValue}><div class="app">
    <div class="page" inert=${!!open || creating || activity || !!view || searching}>
      <${TopBar} counts=${counts} status=${conn.status} projects=${projectsOf(all)} filters=${filters}
        onFilters=${setFilters} textRef=${textRef} prefs=${prefs} permission=${permission} onToggle=${onToggle}
        onNewSession=${() => setCreating(true)} onActivity=${() => setActivity(true)}
        onView=${setView} onSearch=${openSearch} />
      <${ConnectionBanner} status=${conn.status} error=${conn.error} />
      ${server && html`<${SetupBanner} setup=${server.setup} />`}
      ${machines.length > 0 && html`<${MachineStrip} machines=${machines} skew=${skew}
          picked=${machinesValue.remotes ? filters.machine : null} onPick=${pickMachine} onAdded=${setAdded} />`}
      <main class="main">
        ${server ? html`<${Overview} all=${all} shown=${shown} setup=${server.setup} skew=${skew}
            onOpen=${openConversation} onDismiss=${dismissals.request} errors=${dismissals.errors}
            onClearFilters=${() => setFilters(NO_FILTERS)} />`
          : html`<p class="muted boot">${conn.error ? "Cannot reach the AMC server yet." : "Connecting to AMC…"}</p>`}
      </main>
      ${server && !machines.length && html`<footer class="page-foot">
        <${AddMachine} onAdded=${setAdded} label="Add a machine over SSH" /></footer>`}
    </div>
    <${UndoToast} toast=${dismissals.toast} onUndo=${dismissals.undo} />
    ${openSession && html`<${Conversation} key=${open.id} sessionId=${open.id} session=${openSession}
        stream=${stream} onClose=${close} scrollTo=${open.messageId || ""} />`}
    <${SearchPalette} open=${searching} onOpen=${openSearch} onClose=${() => setSearching(false)}
      onPick=${openHit} sessions=${all} />
    ${creating && html`<${NewSessionForm} dirs=${knownDirs} onClose=${() => setCreating(false)} onStarted=${onStarted} />`}
    ${activity && html`<${ActivityView} stream=${stream} onClose=${() => setActivity(false)} />`}
    ${view === "usage" && html`<${UsageView} onClose=${() => setView("")} />`}
    ${view === "history" && html`<${HistoryView} onClose=${() => setView("")}
        onStarted=${(id) => { setView(""); setStarted(id); }} />`}
  </div></${MachinesContext.Provider}>`;
}
