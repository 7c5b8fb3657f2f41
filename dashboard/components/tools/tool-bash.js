/**
 * A shell call (Claude's Bash, Codex's shell / exec_command) as a terminal shows it: the command,
 * its description, and the output with its ANSI colours as <span>s (lib/ansi.js: the text is
 * always a text node; every escape that is not a colour is dropped). The output is cut to 4000
 * characters before it is parsed, with "Show more" revealing four times as much per click.
 */
import { html, useMemo, useState } from "../../lib/preact.js";
import { parseAnsi } from "../../lib/ansi.js";
import { clean } from "../../state/text.js";
import { DEFAULT_LIMIT, LongText } from "../common/long-text.js";

const SHELLS = /^(ba|z|da|k)?sh$|\/(ba|z|da|k)?sh$/;

/** Return the command line of a shell call's input (a string, or Codex's argv arrays). */
export function commandText(input) {
  if (typeof input === "string") return input;
  if (!input || typeof input !== "object") return "";
  const value = input.command !== undefined ? input.command : input.cmd;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    const argv = value.map((v) => String(v));
    // ["bash", "-lc", "<script>"]: the script is what was run
    if (argv.length === 3 && SHELLS.test(argv[0]) && /^-\w*c$/.test(argv[1])) return argv[2];
    return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
  }
  return "";
}

/** Props: text (terminal output), limit. The ANSI colours of the shown part, as spans. */
export function AnsiText({ text, limit = DEFAULT_LIMIT }) {
  const [shown, setShown] = useState(limit);
  const raw = String(text == null ? "" : text);
  const segments = useMemo(() => parseAnsi(raw.length > shown ? raw.slice(0, shown) : raw), [raw, shown]);
  const rest = raw.length - shown;
  if (!raw) return null;
  return html`<div class="long-text">
    <pre class="mono-block ansi" data-testid="ansi-output">${segments.map((s, i) => (s.cls || s.style
      ? html`<span class=${s.cls || undefined} style=${s.style || undefined} key=${i}>${s.text}</span>` : s.text))}</pre>
    ${rest > 0 && html`<button type="button" class="show-more" data-testid="show-more"
        onClick=${() => setShown((n) => n * 4)}>Show more (${rest.toLocaleString()} more characters)</button>`}
  </div>`;
}

/** Props: call ({input, result, is_error}), parts ({inputOmitted, resultOmitted, hasResult, failed, omitted}). */
export function ToolBash({ call, parts }) {
  const input = call.input && typeof call.input === "object" ? call.input : {};
  const command = parts.inputOmitted ? "" : commandText(call.input);
  const description = typeof input.description === "string" ? input.description : "";
  const result = call.result;
  return html`<div class="bash-view" data-testid="tool-bash">
    <div class="tool-part" data-testid="tool-input">
      ${description && html`<div class="part-label bash-desc" data-testid="bash-description">${clean(description, 300)}</div>`}
      ${parts.inputOmitted ? parts.omitted("Input", "input")
        : html`<div class="bash-command" data-testid="bash-command"><span class="prompt" aria-hidden="true">$</span>
            <${LongText} text=${command} mono=${true} /></div>`}
      ${input.run_in_background === true && html`<span class="badge">in the background</span>`}
    </div>
    ${parts.hasResult && html`<div class=${`tool-part${parts.failed ? " failed" : ""}`} data-testid="tool-result">
      <div class="part-label">${parts.failed ? "Error" : "Output"}</div>
      ${result !== undefined && result !== null && (String(result)
        ? html`<${AnsiText} text=${typeof result === "string" ? result : JSON.stringify(result, null, 2)} />`
        : html`<p class="muted" data-testid="bash-no-output">(no output)</p>`)}
      ${parts.resultOmitted && parts.omitted("Output", "result")}
    </div>`}
  </div>`;
}
