/**
 * Terminal output with colours, as data: `parseAnsi(text)` turns SGR escapes (bold, dim, italic,
 * underline, inverse, the 8 + 8 colours 30-37 / 90-97 and backgrounds 40-47 / 100-107, and the
 * 256-colour and true-colour forms 38;5;n, 38;2;r;g;b) into segments `{text, cls, style}` that
 * components/tools/tool-bash.js renders as <span>s of text: the text never becomes markup. Every other
 * escape (cursor moves, OSC titles and hyperlinks, DCS...) and control character is dropped;
 * a lone carriage return starts its line over, as a terminal shows a progress bar's last state.
 * Pure, so the page tests it with page.evaluate.
 */

// One escape or control sequence: CSI (7-bit or C1), OSC, DCS/PM/APC, any other ESC pair,
// CR LF / CR, or another control character (tab and newline are text).
const TOKEN = /\x1b\[([0-?]*)[ -/]*([@-~])|\x9b([0-?]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[P^_X][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]?|\r\n?|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

const PALETTE_16 = [
  [0, 0, 0], [205, 49, 49], [13, 188, 121], [229, 229, 16], [36, 114, 200], [188, 63, 188],
  [17, 168, 205], [229, 229, 229], [102, 102, 102], [241, 76, 76], [35, 209, 139], [245, 245, 67],
  [59, 142, 234], [214, 112, 214], [41, 184, 219], [255, 255, 255],
];

/** Return the rgb() of colour `n` of the xterm 256-colour palette (0-15 use their class). */
export function color256(n) {
  let rgb;
  if (n < 16) rgb = PALETTE_16[n];
  else if (n < 232) {
    const c = n - 16;
    const level = (v) => (v === 0 ? 0 : 55 + v * 40);
    rgb = [level(Math.floor(c / 36)), level(Math.floor(c / 6) % 6), level(c % 6)];
  } else {
    const g = 8 + (n - 232) * 10;
    rgb = [g, g, g];
  }
  return `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
}

const clampByte = (v) => Math.max(0, Math.min(255, Number(v) || 0));

function fresh() {
  return { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false };
}

/** Apply one SGR parameter list ("1;31", "38;5;208", "" = reset) to `s`. */
function applySgr(s, params) {
  const codes = params === "" ? [0] : params.split(/[;:]/).map((p) => (p === "" ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i += 1) {
    const c = codes[i];
    if (c === 0) Object.assign(s, fresh());
    else if (c === 1) s.bold = true;
    else if (c === 2) s.dim = true;
    else if (c === 3) s.italic = true;
    else if (c === 4) s.underline = true;
    else if (c === 7) s.inverse = true;
    else if (c === 22) { s.bold = false; s.dim = false; }
    else if (c === 23) s.italic = false;
    else if (c === 24) s.underline = false;
    else if (c === 27) s.inverse = false;
    else if (c >= 30 && c <= 37) s.fg = c - 30;
    else if (c >= 90 && c <= 97) s.fg = c - 90 + 8;
    else if (c === 39) s.fg = null;
    else if (c >= 40 && c <= 47) s.bg = c - 40;
    else if (c >= 100 && c <= 107) s.bg = c - 100 + 8;
    else if (c === 49) s.bg = null;
    else if (c === 38 || c === 48) {
      const key = c === 38 ? "fg" : "bg";
      if (codes[i + 1] === 5 && i + 2 < codes.length) {
        const n = codes[i + 2];
        if (Number.isInteger(n) && n >= 0 && n <= 255) s[key] = n;
        i += 2;
      } else if (codes[i + 1] === 2 && i + 4 < codes.length) {
        s[key] = `rgb(${clampByte(codes[i + 2])}, ${clampByte(codes[i + 3])}, ${clampByte(codes[i + 4])})`;
        i += 4;
      } else {
        i = codes.length; // a malformed extended colour: ignore the rest
      }
    }
  }
}

/** Return the classes and inline style (computed colours only, never transcript text) of a state. */
function look(s) {
  let fg = s.fg;
  let bg = s.bg;
  if (s.inverse) [fg, bg] = [bg === null ? "inv-fg" : bg, fg === null ? "inv-bg" : fg];
  const cls = [];
  const style = {};
  const paint = (value, kind) => {
    if (value === null) return;
    if (value === "inv-fg") cls.push("ansi-inverse-fg");
    else if (value === "inv-bg") cls.push("ansi-inverse-bg");
    else if (typeof value === "number" && value < 16) cls.push(`ansi-${kind}-${value}`);
    else style[kind === "fg" ? "color" : "backgroundColor"] = typeof value === "number" ? color256(value) : value;
  };
  paint(fg, "fg");
  paint(bg, "bg");
  if (s.bold) cls.push("ansi-bold");
  if (s.dim) cls.push("ansi-dim");
  if (s.italic) cls.push("ansi-italic");
  if (s.underline) cls.push("ansi-underline");
  return { cls: cls.join(" "), style: Object.keys(style).length ? style : null };
}

/**
 * Return `text` as segments [{text, cls, style}] (neighbours with the same look merged).
 * `cls` is a space-separated list of `ansi-*` classes; `style` null or {color, backgroundColor}.
 */
export function parseAnsi(text) {
  const src = String(text == null ? "" : text);
  const out = [];
  const state = fresh();
  let current = look(state);
  const push = (piece) => {
    if (!piece) return;
    const last = out[out.length - 1];
    if (last && last.cls === current.cls && sameStyle(last.style, current.style)) last.text += piece;
    else out.push({ text: piece, cls: current.cls, style: current.style });
  };
  const carriageReturn = () => { // drop what this line showed so far
    while (out.length) {
      const last = out[out.length - 1];
      const nl = last.text.lastIndexOf("\n");
      if (nl >= 0) {
        last.text = last.text.slice(0, nl + 1);
        return;
      }
      out.pop();
    }
  };
  TOKEN.lastIndex = 0;
  let pos = 0;
  let m;
  while ((m = TOKEN.exec(src)) !== null) {
    push(src.slice(pos, m.index));
    pos = TOKEN.lastIndex;
    const token = m[0];
    const final = m[2] || m[4];
    if (final === "m") {
      applySgr(state, m[1] !== undefined ? m[1] : m[3] || "");
      current = look(state);
    } else if (token === "\r\n") {
      push("\n");
    } else if (token === "\r") {
      carriageReturn();
    }
  }
  push(src.slice(pos));
  return out.filter((s) => s.text);
}

function sameStyle(a, b) {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.color === b.color && a.backgroundColor === b.backgroundColor;
}

/** Return `text` without any escape or control sequence (what the segments' texts add up to). */
export function plainAnsi(text) {
  return parseAnsi(text).map((s) => s.text).join("");
}
