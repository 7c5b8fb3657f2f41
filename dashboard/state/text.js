/**
 * Text and numbers as the page shows them, the foundation of every other state module: ISO times
 * read (and the server's clock against this one), durations, ages and byte sizes formatted, and
 * server or transcript text made fit for the page (cut to a bound, stripped of ANSI escapes and
 * control characters). No DOM, no fetch, no Preact: functions of their arguments.
 */

/** Parse an ISO-8601 time to epoch ms (NaN when missing or invalid). */
export const parseTime = (iso) => (iso ? Date.parse(iso) : NaN);

/** Return server clock minus local clock, in ms, from a state's server_time (0 if unknown). */
export function clockSkew(serverTime, localNow) {
  const t = parseTime(serverTime);
  return Number.isFinite(t) ? t - localNow : 0;
}

/** Format a duration compactly: "12s", "4m", "1h 05m", "3d 2h" ("" when unknown). */
export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return "";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Format a byte count with decimal units, rounded down: 784786 -> "784 KB". */
export function formatBytes(n) {
  const b = Number(n);
  if (!Number.isFinite(b) || b < 0) return "unknown size";
  if (b < 1000) return `${b} B`;
  if (b < 1e6) return `${Math.floor(b / 1000)} KB`;
  if (b < 1e9) return `${Math.floor(b / 1e5) / 10} MB`;
  return `${Math.floor(b / 1e8) / 10} GB`;
}

/** Format an ISO time as the local "HH:MM:SS" (prefixed with the date when not today). */
export function formatClock(iso, now = new Date()) {
  const t = parseTime(iso);
  if (!Number.isFinite(t)) return "";
  const d = new Date(t);
  const time = d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  if (d.toDateString() === now.toDateString()) return time;
  return `${d.toLocaleDateString(undefined, { month: "short", day: "numeric" })} ${time}`;
}

/** Format how long ago something was: "just now", "40 s ago", "2 min ago", "3 h ago", "2 d ago" ("" when unknown). */
export function formatAgo(ms) {
  if (!Number.isFinite(ms)) return "";
  const s = Math.floor(Math.max(0, ms) / 1000);
  if (s < 10) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 172800) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Format a span: "126 ms" under a second, else like formatDuration ("12s", "4m", "1h 05m"). */
export function spanText(ms) {
  if (!Number.isFinite(ms) || ms < 0) return "";
  return ms < 1000 ? `${Math.round(ms)} ms` : formatDuration(ms);
}

// CSI/OSC/other escape sequences, C1 CSI, and stray control characters except \t \n \r.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[P^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]?|\x9b[0-?]*[ -/]*[@-~]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

/** Remove ANSI escape sequences and control characters (keeps tabs and newlines). */
export const stripAnsi = (text) => String(text == null ? "" : text).replace(ANSI, "");

/** Return server-provided text fit for a card: cut to `limit` characters, ANSI stripped. */
export function clean(text, limit = 2000) {
  return clip(text, limit).text;
}

/** Cut `text` to `limit` characters, stripped of ANSI; return {text, rest} (rest: characters cut). */
export function clip(text, limit) {
  const raw = String(text == null ? "" : text);
  if (raw.length <= limit) return { text: stripAnsi(raw), rest: 0 };
  return { text: stripAnsi(raw.slice(0, limit)), rest: raw.length - limit };
}

/** Return `text` cleaned and on one line (runs of whitespace become one space). */
export const oneLine = (text) => clean(text).replace(/\s+/g, " ").trim();
