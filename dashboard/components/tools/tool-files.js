/**
 * Read, Grep, Glob (and LS) as what was looked at and how much came back: the path or pattern,
 * where, and a count ("12 lines", "3 files", "no matches"), with the result below, collapsed to
 * its first lines. Counts come from the result text as Claude Code writes it (a Read's numbered
 * lines, "Found N files", one path per line, "No files found"). An error shows as one.
 */
import { html } from "../../lib/preact.js";
import { clean } from "../../state/text.js";
import { LongText } from "../common/long-text.js";

const str = (v) => (typeof v === "string" ? v : "");
const plural = (n, one, many) => `${n.toLocaleString()} ${n === 1 ? one : many}`;
const READ_LINE = /^\s*\d+(\u2192|\t)/;   // "     1→text" (to 2.0.x) or "1\ttext" (2.1.x)
const NOTE = /^(\[[^\]]*\]|\([^)]*\))$/;
const IMAGE_ONLY = /^(\[image [^\]]*\]\s*)+$/;  // what a result of only images reads as

/** Return what a Read/Grep/Glob/LS call looked at: {what, where, detail}. */
export function lookedAt(name, input) {
  const a = input && typeof input === "object" ? input : {};
  if (name === "Read") {
    const from = Number(a.offset) || 0;
    const to = Number(a.limit) ? from + Number(a.limit) : 0;
    return { what: str(a.file_path) || str(a.path), where: "",
      detail: from || to ? `lines ${from || 1}–${to || "end"}` : str(a.pages) ? `pages ${a.pages}` : "" };
  }
  if (name === "LS") return { what: str(a.path), where: "", detail: "" };
  const flags = [];
  if (str(a.glob)) flags.push(`glob ${a.glob}`);
  if (str(a.type)) flags.push(`type ${a.type}`);
  if (str(a.output_mode)) flags.push(a.output_mode);
  if (a["-i"]) flags.push("ignore case");
  return { what: str(a.pattern), where: str(a.path), detail: flags.join(" · ") };
}

/** Return how much a result holds, in words ("12 lines", "3 files", "no matches"), or "". */
export function resultCount(name, result, input) {
  if (typeof result !== "string") return "";
  const text = result.replace(/\s+$/, "");
  if (!text) return name === "Read" ? "empty" : "no matches";
  if (name === "Read" && IMAGE_ONLY.test(text)) return "an image";
  // a note the tool adds ("[Showing results with pagination = ...]", "(Results are truncated...)")
  // is not a result
  const lines = text.split("\n").filter((l) => l.trim() && !NOTE.test(l.trim()));
  if (!lines.length) return "no matches";
  if (name === "Read") {
    const numbered = lines.filter((l) => READ_LINE.test(l)).length;
    return plural(numbered || lines.length, "line", "lines");
  }
  if (/^No (files|matches) found/i.test(text)) return "no matches";
  const found = /^Found (\d+) (files?|lines?|matches|occurrences?)/i.exec(text);
  if (found) return plural(Number(found[1]), found[2].replace(/s$/, ""), found[2].replace(/s?$/, "s"));
  const mode = input && typeof input === "object" ? input.output_mode : "";
  if (name === "Grep" && mode === "count") {
    const total = lines.reduce((n, l) => n + (Number((/:(\d+)$/.exec(l) || [])[1]) || 0), 0);
    return plural(total, "match", "matches");
  }
  if (name === "Grep" && mode === "content") return plural(lines.length, "matching line", "matching lines");
  return plural(lines.length, name === "LS" ? "entry" : "file", name === "LS" ? "entries" : "files");
}

/** Props: call ({name, input, result, is_error}), parts ({inputOmitted, resultOmitted, hasResult, failed, omitted}). */
export function ToolFiles({ call, parts }) {
  const { what, where, detail } = lookedAt(call.name, call.input);
  const result = typeof call.result === "string" ? call.result
    : call.result == null ? "" : JSON.stringify(call.result, null, 2);
  const count = parts.failed || parts.resultOmitted ? "" : resultCount(call.name, call.result, call.input);
  const onlyImages = Array.isArray(call.images) && call.images.length > 0 && IMAGE_ONLY.test(result);
  return html`<div class="files-view" data-testid="tool-files">
    <div class="files-head" data-testid="tool-input">
      ${parts.inputOmitted ? parts.omitted("Input", "input") : html`
        <code class="files-path" data-testid="files-path">${clean(what, 1000) || "(nothing)"}</code>
        ${where && html`<span class="muted">in <code data-testid="files-where">${clean(where, 1000)}</code></span>`}
        ${detail && html`<span class="muted" data-testid="files-detail">${clean(detail, 200)}</span>`}`}
      ${count && html`<span class="badge" data-testid="files-count">${count}</span>`}
    </div>
    ${parts.hasResult && html`<div class=${`tool-part${parts.failed ? " failed" : ""}`} data-testid="tool-result">
      ${parts.failed && html`<div class="part-label">Error</div>`}
      ${result && !onlyImages && html`<${LongText} text=${result} mono=${true} limit=${2000} />`}
      ${parts.resultOmitted && parts.omitted("Output", "result")}
    </div>`}
  </div>`;
}
