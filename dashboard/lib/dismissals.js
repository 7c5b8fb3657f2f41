/**
 * Dismissing done sessions with undo: a dismissed card disappears at once, an Undo toast shows for
 * DISMISS_DELAY_MS, and only then is POST /api/dismiss/<id> sent. Undo cancels before anything is
 * sent. A failed dismissal brings the card back with the server's error on it. Dismissals still
 * waiting when the page goes away are sent with `keepalive` so the user's intent is not lost.
 */
import { useState, useEffect, useRef, useCallback } from "./preact.js";
import { dismiss } from "./api.js";

export const DISMISS_DELAY_MS = 5000;

const withAdded = (set, id) => new Set(set).add(id);
const without = (set, id) => {
  const next = new Set(set);
  next.delete(id);
  return next;
};

/** Return {hidden, toast, errors, request(session), undo(), prune(sessions)}. */
export function useDismissals() {
  const [hidden, setHidden] = useState(() => new Set());
  const [toast, setToast] = useState(null);
  const [errors, setErrors] = useState({});
  const timers = useRef(new Map());
  const toastRef = useRef(null);
  toastRef.current = toast;

  const commit = useCallback(async (id) => {
    clearTimeout(timers.current.get(id));
    timers.current.delete(id);
    setToast((t) => (t && t.id === id ? null : t));
    try {
      await dismiss(id);
    } catch (e) {
      setHidden((h) => without(h, id));
      setErrors((errs) => ({ ...errs, [id]: `Could not dismiss: ${e.message}` }));
    }
  }, []);

  const request = useCallback((session) => {
    const id = session.session_id;
    for (const other of [...timers.current.keys()]) if (other !== id) commit(other);
    clearTimeout(timers.current.get(id));
    timers.current.set(id, setTimeout(() => commit(id), DISMISS_DELAY_MS));
    setHidden((h) => withAdded(h, id));
    setErrors((errs) => {
      const { [id]: _, ...rest } = errs;
      return rest;
    });
    setToast({ id, project: session.project });
  }, [commit]);

  const undo = useCallback(() => {
    const t = toastRef.current;
    if (!t || !timers.current.has(t.id)) return; // already sent: nothing left to undo
    clearTimeout(timers.current.get(t.id));
    timers.current.delete(t.id);
    setHidden((h) => without(h, t.id));
    setToast(null);
  }, []);

  /** Forget hidden ids the server no longer lists (so a session that comes back shows again). */
  const prune = useCallback((sessions) => {
    const listed = new Set(sessions.map((s) => s.session_id));
    setHidden((h) => {
      const keep = [...h].filter((id) => listed.has(id) || timers.current.has(id));
      return keep.length === h.size ? h : new Set(keep);
    });
  }, []);

  useEffect(() => {
    const flush = () => {
      for (const [id, t] of timers.current) {
        clearTimeout(t);
        dismiss(id, { keepalive: true });
      }
      timers.current.clear();
    };
    window.addEventListener("pagehide", flush);
    return () => {
      window.removeEventListener("pagehide", flush);
      for (const t of timers.current.values()) clearTimeout(t);
      timers.current.clear();
    };
  }, []);

  return { hidden, toast, errors, request, undo, prune };
}
