/**
 * Edit, MultiEdit, Write and Codex's apply_patch as line diffs: per file its path, how many lines
 * went and came, and the rows with old and new line numbers (lib/diff.js computes them here, in
 * the page, from the call's input). Past COLLAPSE_AT rows the rest waits behind "Show more
 * lines". An input over 64 KB (a huge Write) arrives as a placeholder: the diff is built only
 * once it is loaded. A failed edit shows its error under the diff. Text stays text.
 */
import { html, useMemo, useState } from "../../lib/preact.js";
import { addedLines, diffLines, diffStats, parsePatch, patchText } from "../../lib/diff.js";
import { clean } from "../../state/text.js";
import { LongText } from "../common/long-text.js";

export const COLLAPSE_AT = 40;
const LINE_CHARS = 2000;   // a longer line (minified code) is cut there
const str = (v) => (typeof v === "string" ? v : "");

/** Return the files a call changes: [{path, kind, note, hunks: [{header, rows}]}]. */
export function diffSections(name, input) {
  const args = input && typeof input === "object" ? input : {};
  const path = str(args.file_path) || str(args.path) || str(args.notebook_path);
  if (name === "Edit") {
    return [{ path, kind: "edit", note: args.replace_all ? "every occurrence" : "",
      hunks: [{ header: "", rows: diffLines(str(args.old_string), str(args.new_string)) }] }];
  }
  if (name === "MultiEdit") {
    const edits = Array.isArray(args.edits) ? args.edits.filter((e) => e && typeof e === "object") : [];
    return [{ path, kind: "edit", note: `${edits.length} edit${edits.length === 1 ? "" : "s"}`,
      hunks: edits.map((e, i) => ({ header: `edit ${i + 1} of ${edits.length}${e.replace_all ? " (every occurrence)" : ""}`,
        rows: diffLines(str(e.old_string), str(e.new_string)) })) }];
  }
  if (name === "Write") {
    return [{ path, kind: "write", note: "whole file", hunks: [{ header: "", rows: addedLines(str(args.content)) }] }];
  }
  return parsePatch(patchText(input)).map((f) => ({
    path: f.moveTo ? `${f.path} → ${f.moveTo}` : f.path, kind: f.kind,
    note: f.kind === "delete" ? "deleted" : f.kind === "add" ? "new file" : "", hunks: f.hunks }));
}

const SIGN = { "+": "+", "-": "−", "=": " " };

function DiffRows({ hunks }) {
  const flat = useMemo(() => {
    const out = [];
    for (const h of hunks) {
      if (h.header || hunks.length > 1) out.push({ header: h.header || "…" });
      for (const r of h.rows) out.push(r);
    }
    return out;
  }, [hunks]);
  const [shown, setShown] = useState(COLLAPSE_AT);
  if (!flat.length) return null;
  const rest = flat.length - shown;
  return html`<div class="diff-rows">
    <table class="diff-table" data-testid="diff-table"><tbody>
      ${flat.slice(0, shown).map((r, i) => (r.header !== undefined
        ? html`<tr class="d-hunk" key=${i}><td class="ln" colspan="2"></td><td class="code" colspan="2" data-testid="diff-hunk">${clean(r.header, 300)}</td></tr>`
        : html`<tr class=${r.op === "+" ? "d-add" : r.op === "-" ? "d-del" : "d-ctx"} data-testid="diff-line" data-op=${r.op} key=${i}>
            <td class="ln" data-testid="ln-old">${r.a || ""}</td><td class="ln" data-testid="ln-new">${r.b || ""}</td>
            <td class="sign" aria-hidden="true">${SIGN[r.op]}</td><td class="code">${clean(r.text, LINE_CHARS)}</td></tr>`))}
    </tbody></table>
    ${rest > 0 && html`<button type="button" class="show-more" data-testid="diff-expand"
        onClick=${() => setShown((n) => n * 10)}>Show ${Math.min(rest, shown * 9).toLocaleString()} more lines (${rest.toLocaleString()} hidden)</button>`}
  </div>`;
}

/** Props: call ({name, input, result, is_error}), parts ({inputOmitted, failed, hasResult, omitted}). */
export function ToolDiff({ call, parts }) {
  const sections = useMemo(() => (parts.inputOmitted ? [] : diffSections(call.name, call.input)),
    [call.name, call.input, parts.inputOmitted]);
  return html`<div class="diff-view" data-testid="tool-diff">
    ${parts.inputOmitted && html`<div data-testid="tool-input">${parts.omitted("Input", "input")}</div>`}
    ${!parts.inputOmitted && !sections.length && html`<p class="muted" data-testid="diff-empty">No changes to show.</p>`}
    ${sections.map((s, i) => {
      const rows = s.hunks.flatMap((h) => h.rows);
      const { added, removed } = diffStats(rows);
      return html`<section class="diff-file" data-testid="diff-file" data-kind=${s.kind} key=${i}>
        <header class="diff-head">
          <code class="diff-path" data-testid="diff-path" title=${clean(s.path, 1000)}>${clean(s.path, 500) || "(no path)"}</code>
          <span class="diff-stats" data-testid="diff-stats"><span class="d-plus">+${added}</span> <span class="d-minus">−${removed}</span></span>
          ${s.note && html`<span class="muted diff-note">${s.note}</span>`}
        </header>
        <${DiffRows} hunks=${s.hunks} />
      </section>`;
    })}
    ${parts.failed && parts.hasResult && html`<div class="tool-part failed" data-testid="tool-result">
      <div class="part-label">Error</div>
      ${call.result != null && html`<${LongText} text=${String(call.result)} mono=${true} />`}
      ${parts.resultOmitted && parts.omitted("Output", "result")}
    </div>`}
  </div>`;
}
