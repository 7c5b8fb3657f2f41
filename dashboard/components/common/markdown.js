/**
 * Safe Markdown for transcript text, built from Preact elements only (never innerHTML).
 *
 * A deliberately small parser: fenced code blocks, headings, paragraphs (single newlines kept as
 * line breaks, as agents write them), bullet and numbered lists (nested by indentation), block
 * quotes, rules, simple pipe tables; inline code, bold, italic, strikethrough and links. A link
 * becomes an <a> only when its URL parses as http: or https:; anything else (javascript:, data:,
 * relative paths) stays visible as the plain text it was written as. HTML in the source is text.
 * Callers truncate before parsing; every quantifier is bounded so hostile input stays linear-ish.
 */
import { h, html, useMemo } from "../../lib/preact.js";

const MAX_DEPTH = 6;
const FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*([^`\s]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const HR = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const BULLET = /^( {0,12})([-*+])[ \t]+(.*)$/;
const ORDERED = /^( {0,12})(\d{1,9})([.)])[ \t]+(.*)$/;
const QUOTE = /^ {0,3}>[ \t]?(.*)$/;
const TABLE_SEP = /^ *\|? *:?-{1,}:? *(\| *:?-{1,}:? *)*\|? *$/;

const indentOf = (line) => line.length - line.trimStart().length;

/** Return {marker: "bullet"|"ordered", indent, content, contentCol, start} for a list item line. */
function listItem(line) {
  let m = BULLET.exec(line);
  if (m && !HR.test(line)) {
    return { kind: "bullet", indent: m[1].length, content: m[3], contentCol: line.length - m[3].length };
  }
  m = ORDERED.exec(line);
  if (m) {
    return { kind: "ordered", indent: m[1].length, content: m[4], contentCol: line.length - m[4].length,
      start: parseInt(m[2], 10) };
  }
  return null;
}

function isTableStart(lines, i) {
  return i + 1 < lines.length && lines[i].includes("|") && lines[i + 1].includes("-") &&
    TABLE_SEP.test(lines[i + 1]) && (lines[i + 1].includes("|") || lines[i].trim().startsWith("|"));
}

function startsBlock(lines, i) {
  const line = lines[i];
  return FENCE.test(line) || HEADING.test(line) || HR.test(line) || QUOTE.test(line) ||
    listItem(line) !== null || isTableStart(lines, i);
}

function splitRow(line) {
  let s = line.trim();
  if (s.startsWith("|")) s = s.slice(1);
  if (s.endsWith("|") && !s.endsWith("\\|")) s = s.slice(0, -1);
  return s.split(/(?<!\\)\|/).slice(0, 50).map((c) => c.trim().replace(/\\\|/g, "|"));
}

function parseList(lines, i, depth) {
  const first = listItem(lines[i]);
  const items = [];
  let cur = null;
  let col = 0;
  while (i < lines.length) {
    const line = lines[i];
    const item = listItem(line);
    if (item && item.kind === first.kind && item.indent >= first.indent && (!cur || item.indent < col)) {
      cur = [item.content];
      col = item.contentCol;
      items.push(cur);
      i += 1;
    } else if (!line.trim()) {
      let j = i + 1;
      while (j < lines.length && !lines[j].trim()) j += 1;
      const next = j < lines.length ? listItem(lines[j]) : null;
      const continues = j < lines.length && (indentOf(lines[j]) >= col ||
        (next && next.kind === first.kind && next.indent >= first.indent));
      if (!continues) break;
      cur.push("");
      i += 1;
    } else if (indentOf(line) >= col) {
      cur.push(line.slice(col));
      i += 1;
    } else if (!item && !startsBlock(lines, i) && indentOf(line) > first.indent) {
      cur.push(line.trim()); // lazy continuation of the item's paragraph
      i += 1;
    } else if (!item && !startsBlock(lines, i) && cur[cur.length - 1] !== "") {
      cur.push(line.trim());
      i += 1;
    } else {
      break;
    }
  }
  const list = { t: "list", ordered: first.kind === "ordered", start: first.start || 1,
    items: items.map((body) => parseBlocks(body, depth + 1)) };
  return [list, i];
}

/** Parse Markdown lines into a list of block nodes ({t: "p"|"h"|"code"|"list"|...}). */
export function parseBlocks(lines, depth = 0) {
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (!line.trim()) {
      i += 1;
    } else if ((m = FENCE.exec(line))) {
      const fence = m[1];
      const close = new RegExp(`^ {0,3}${fence[0] === "`" ? "`" : "~"}{${fence.length},}[ \\t]*$`);
      const body = [];
      i += 1;
      while (i < lines.length && !close.test(lines[i])) body.push(lines[i++]);
      i += 1;
      out.push({ t: "code", lang: m[2].slice(0, 30), text: body.join("\n") });
    } else if ((m = HEADING.exec(line))) {
      out.push({ t: "h", level: m[1].length, text: m[2] });
      i += 1;
    } else if (HR.test(line)) {
      out.push({ t: "hr" });
      i += 1;
    } else if (depth < MAX_DEPTH && QUOTE.test(line)) {
      const body = [];
      while (i < lines.length && (m = QUOTE.exec(lines[i]))) {
        body.push(m[1]);
        i += 1;
      }
      out.push({ t: "quote", blocks: parseBlocks(body, depth + 1) });
    } else if (depth < MAX_DEPTH && listItem(line)) {
      const [list, next] = parseList(lines, i, depth);
      out.push(list);
      i = next;
    } else if (isTableStart(lines, i)) {
      const head = splitRow(line);
      const align = splitRow(lines[i + 1]).map((c) =>
        c.endsWith(":") ? (c.startsWith(":") ? "center" : "right") : c.startsWith(":") ? "left" : "");
      const rows = [];
      i += 2;
      while (i < lines.length && lines[i].includes("|") && lines[i].trim() && rows.length < 1000) {
        rows.push(splitRow(lines[i++]));
      }
      out.push({ t: "table", head, align, rows });
    } else {
      const body = [line.trim()];
      i += 1;
      while (i < lines.length && lines[i].trim() && !startsBlock(lines, i)) body.push(lines[i++].trim());
      out.push({ t: "p", text: body.join("\n") });
    }
  }
  return out;
}

/** Return the URL when it is an absolute http(s) URL, else null (rendered as plain text). */
export function safeHref(url) {
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch (e) {
    return null;
  }
}

const INLINE = new RegExp([
  /(`+)([^`][\s\S]{0,4000}?)\1(?!`)/.source, // 1, 2: code span
  /\[([^\[\]\n]{1,500})\]\(\s*<?((?:[^\s()<>]|\([^\s()<>]{0,200}\)){0,2000})>?(?:\s+"[^"\n]{0,300}")?\s*\)/.source, // 3, 4: link
  /<(https?:\/\/[^\s<>]{1,2000})>/.source, // 5: autolink
  /(https?:\/\/[^\s<>"'`]{1,2000})/.source, // 6: bare URL
  /\*\*(?=\S)([\s\S]{0,2000}?\S)\*\*/.source, // 7: bold
  /(?<!\w)__(?=\S)([\s\S]{0,2000}?\S)__(?!\w)/.source, // 8: bold
  /~~(?=\S)([\s\S]{0,2000}?\S)~~/.source, // 9: strikethrough
  /\*(?=[^\s*])([\s\S]{0,2000}?[^\s*])\*(?!\*)/.source, // 10: italic
  /(?<![\w\\])_(?=[^\s_])([\s\S]{0,2000}?[^\s_])_(?!\w)/.source, // 11: italic
  /\\([!-/:-@[-`{-~])/.source, // 12: backslash escape
  /(\n)/.source, // 13: line break
].join("|"), "g");

function link(href, children) {
  return html`<a href=${href} target="_blank" rel="noopener noreferrer nofollow">${children}</a>`;
}

/** Parse inline Markdown into an array of strings and Preact elements. */
export function parseInline(text, depth = 0) {
  if (depth > 4 || !text) return text ? [text] : [];
  const re = new RegExp(INLINE.source, "g");
  const out = [];
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    let end = m.index + m[0].length;
    let node;
    if (m[1] !== undefined) {
      const code = m[2].length > 2 && /^ .* $/s.test(m[2]) ? m[2].slice(1, -1) : m[2];
      node = html`<code>${code}</code>`;
    } else if (m[3] !== undefined) {
      const href = safeHref(m[4]);
      node = href ? link(href, parseInline(m[3], depth + 1)) : m[0];
    } else if (m[5] !== undefined) {
      const href = safeHref(m[5]);
      node = href ? link(href, m[5]) : m[0];
    } else if (m[6] !== undefined) {
      const url = m[6].replace(/[.,;:!?)\]'"*_]+$/, "");
      end = m.index + url.length;
      re.lastIndex = end;
      const href = safeHref(url);
      node = href ? link(href, url) : url;
    } else if (m[7] !== undefined || m[8] !== undefined) {
      node = html`<strong>${parseInline(m[7] ?? m[8], depth + 1)}</strong>`;
    } else if (m[9] !== undefined) {
      node = html`<del>${parseInline(m[9], depth + 1)}</del>`;
    } else if (m[10] !== undefined || m[11] !== undefined) {
      node = html`<em>${parseInline(m[10] ?? m[11], depth + 1)}</em>`;
    } else if (m[12] !== undefined) {
      node = m[12];
    } else {
      node = html`<br />`;
    }
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(node);
    last = end;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function renderBlock(b) {
  switch (b.t) {
    case "code":
      return html`<pre class="md-code"><code data-lang=${b.lang || undefined}>${b.text}</code></pre>`;
    case "h":
      return h(`h${Math.min(6, b.level + 2)}`, { class: "md-h" }, parseInline(b.text));
    case "hr":
      return html`<hr />`;
    case "quote":
      return html`<blockquote>${b.blocks.map(renderBlock)}</blockquote>`;
    case "list": {
      const items = b.items.map((blocks) => html`<li>${blocks.map(renderBlock)}</li>`);
      return b.ordered ? html`<ol start=${b.start !== 1 ? b.start : undefined}>${items}</ol>` : html`<ul>${items}</ul>`;
    }
    case "table":
      return html`<div class="md-table"><table>
        <thead><tr>${b.head.map((c, i) => html`<th style=${b.align[i] ? `text-align:${b.align[i]}` : undefined}>${parseInline(c)}</th>`)}</tr></thead>
        <tbody>${b.rows.map((r) => html`<tr>${b.head.map((_, i) => html`<td style=${b.align[i] ? `text-align:${b.align[i]}` : undefined}>${parseInline(r[i] || "")}</td>`)}</tr>`)}</tbody>
      </table></div>`;
    default:
      return html`<p>${parseInline(b.text)}</p>`;
  }
}

/** Render `text` (already truncated and stripped of ANSI by the caller) as safe Markdown. */
export function Markdown({ text }) {
  const blocks = useMemo(() => parseBlocks(String(text || "").replace(/\r\n?/g, "\n").split("\n")), [text]);
  return html`<div class="md">${blocks.map(renderBlock)}</div>`;
}
