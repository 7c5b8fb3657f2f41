/**
 * Line diffs for the tool views (components/tools/tool-diff.js), as pure functions of strings, so the
 * page computes them from a tool call's input and tests call them with page.evaluate.
 *
 * - `diffLines(old, new)`: Myers' O((N+M)·D) shortest edit script on lines, after the common
 *   head and tail are set aside; past `maxWork` steps or 1000 edits (a rewrite of a huge file)
 *   it gives up and says every old line went and every new one came, which is still correct,
 *   just not minimal.
 * - `addedLines(text)`: a Write, every line added.
 * - `parsePatch(text)`: Codex's apply_patch format (`*** Begin Patch`, `*** Update File:`,
 *   `*** Add File:`, `*** Delete File:`, `*** Move to:`, `@@` hunks, `+`/`-`/` ` lines). Its
 *   `@@` lines are context anchors without line numbers (numbers are 0 then); a unified
 *   `@@ -a,b +c,d @@` header gives them.
 * A row is `{op: "=" | "-" | "+", text, a, b}`: `a` the old line number, `b` the new one (1-based;
 * 0 where the line is not on that side or the number is unknown).
 */

export const MAX_DIFF_WORK = 2000000;   // steps (diagonal moves and matched lines) before giving up
const MAX_EDITS = 1000;                 // edits kept track of (memory: their square, in ints)

/** Split text into lines; a final newline ends the last line rather than starting an empty one. */
export function splitLines(text) {
  if (text === null || text === undefined || text === "") return [];
  const lines = String(text).split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Return the rows of a line diff from `oldText` to `newText` (numbers from `startA`/`startB`). */
export function diffLines(oldText, newText, { maxWork = MAX_DIFF_WORK, startA = 1, startB = 1 } = {}) {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > head && endB > head && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const ops = [];
  for (let i = 0; i < head; i += 1) ops.push(["=", a[i]]);
  for (const op of editScript(a.slice(head, endA), b.slice(head, endB), maxWork)) ops.push(op);
  for (let i = endA; i < a.length; i += 1) ops.push(["=", a[i]]);
  return numbered(ops, startA, startB);
}

/** Return the rows of a file written whole: every line added, numbered from 1. */
export function addedLines(text) {
  return numbered(splitLines(text).map((t) => ["+", t]), 1, 1);
}

function numbered(ops, startA, startB) {
  let a = startA;
  let b = startB;
  return ops.map(([op, text]) => {
    const row = { op, text, a: op === "+" ? 0 : a, b: op === "-" ? 0 : b };
    if (op !== "+") a += 1;
    if (op !== "-") b += 1;
    return row;
  });
}

/** Myers' greedy algorithm: the edit script turning `a` into `b`, as [op, text] pairs. */
function editScript(a, b, maxWork) {
  const n = a.length;
  const m = b.length;
  if (n === 0) return b.map((t) => ["+", t]);
  if (m === 0) return a.map((t) => ["-", t]);
  const max = n + m;
  const size = 2 * max + 1;
  const limit = Math.min(max, MAX_EDITS);
  const v = new Int32Array(size + 1);
  const trace = [];
  let found = -1;
  let work = 0;
  for (let d = 0; d <= limit && found < 0 && work <= maxWork; d += 1) {
    trace.push(v.slice(max - d, max + d + 1)); // only diagonals -d..d matter at step d: O(D²) kept
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[max + k - 1] < v[max + k + 1]) ? v[max + k + 1] : v[max + k - 1] + 1;
      let y = x - k;
      const from = x;
      while (x < n && y < m && a[x] === b[y]) {
        x += 1;
        y += 1;
      }
      work += 1 + x - from;
      v[max + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) return a.map((t) => ["-", t]).concat(b.map((t) => ["+", t]));
  const out = [];
  let x = n;
  let y = m;
  for (let d = found; d >= 0; d -= 1) {
    const w = trace[d]; // w[k + d] is diagonal k as step d found it
    const k = x - y;
    const prevK = k === -d || (k !== d && w[k - 1 + d] < w[k + 1 + d]) ? k + 1 : k - 1;
    const prevX = w[prevK + d];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      out.push(["=", a[x - 1]]);
      x -= 1;
      y -= 1;
    }
    if (d > 0) out.push(x === prevX ? ["+", b[prevY]] : ["-", a[prevX]]);
    x = prevX;
    y = prevY;
  }
  return out.reverse();
}

/** Count the rows a diff adds and removes: {added, removed}. */
export function diffStats(rows) {
  let added = 0;
  let removed = 0;
  for (const r of rows) {
    if (r.op === "+") added += 1;
    else if (r.op === "-") removed += 1;
  }
  return { added, removed };
}

const PATCH_FILE = /^\*\*\* (Update|Add|Delete) File: (.*)$/;
const PATCH_MOVE = /^\*\*\* Move to: (.*)$/;
const UNIFIED = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

/** Return the text of an apply_patch call's input (a string, or {command|input|patch}). */
export function patchText(input) {
  if (typeof input === "string") return input;
  if (!input || typeof input !== "object") return "";
  for (const key of ["input", "patch", "command"]) {
    const value = input[key];
    if (typeof value === "string") return value;
    if (Array.isArray(value)) { // ["apply_patch", "*** Begin Patch ..."] (older Codex shells)
      const found = value.find((v) => typeof v === "string" && v.includes("*** Begin Patch"));
      if (found) return found;
    }
  }
  return "";
}

/**
 * Parse Codex's apply_patch text into files:
 * [{kind: "update"|"add"|"delete", path, moveTo, hunks: [{header, rows}]}]. Lines outside any
 * file (a heredoc's shell words, the Begin/End markers) are ignored; unknown lines inside a hunk
 * are kept as context so nothing the patch says is hidden.
 */
export function parsePatch(text) {
  const files = [];
  let file = null;
  let hunk = null;
  let a = 0;
  let b = 0;
  const newHunk = (header) => {
    const m = UNIFIED.exec(header);
    a = m ? Number(m[1]) : 0;
    b = m ? Number(m[2]) : 0;
    hunk = { header, rows: [] };
    file.hunks.push(hunk);
  };
  for (const line of String(text || "").split("\n")) {
    const head = PATCH_FILE.exec(line);
    if (head) {
      file = { kind: head[1].toLowerCase(), path: head[2].trim(), moveTo: "", hunks: [] };
      files.push(file);
      hunk = null;
      if (file.kind === "add") {
        newHunk("");
        a = 0;
        b = 1;
      }
      continue;
    }
    if (!file) continue;
    const move = PATCH_MOVE.exec(line);
    if (move) {
      file.moveTo = move[1].trim();
      continue;
    }
    if (line.startsWith("*** ")) {
      if (/^\*\*\* End Patch/.test(line)) file = null;
      continue; // "*** End of File" and other markers
    }
    if (line.startsWith("@@")) {
      newHunk(line);
      continue;
    }
    if (file.kind === "delete") continue;
    if (!hunk) newHunk("");
    const op = line[0] === "+" ? "+" : line[0] === "-" ? "-" : "=";
    const body = op === "=" && line[0] !== " " ? line : line.slice(1);
    if (op === "=" && line === "" ) continue; // a blank line between sections
    hunk.rows.push({ op, text: body, a: op === "+" || !a ? 0 : a, b: op === "-" || !b ? 0 : b });
    if (op !== "+" && a) a += 1;
    if (op !== "-" && b) b += 1;
  }
  return files;
}
