/**
 * One pending AskUserQuestion question: header, text, one real button per option, and an
 * "Other" box. Single-select options answer at once; multiSelect options toggle and a Submit sends
 * the chosen numbers ("1,3"). Only the first unanswered question of a card is answerable.
 */
import { html, useState } from "../../lib/preact.js";
import { clean } from "../../state/text.js";

/**
 * Props: q ({question, header, options, multiSelect}), index, total, state ("current" |
 * "answered" | "waiting"), picked (option numbers chosen so far, multiSelect), busy,
 * onOption(n), onSubmitMulti(), onFree(text) -> Promise<boolean>.
 */
export function QuestionBlock({ q, index, total, state, picked, busy, onOption, onSubmitMulti, onFree }) {
  const [other, setOther] = useState("");
  const [idBase] = useState(() => `q-${Math.random().toString(36).slice(2, 10)}`);
  const options = q.options || [];
  const live = state === "current";
  const disabled = busy || !live;
  const submitFree = async (e) => {
    e.preventDefault();
    const text = other.trim();
    if (!text || disabled) return;
    if (await onFree(text)) setOther("");
  };
  const chosen = picked.slice().sort((a, b) => a - b).join(",");
  return html`<div class=${`question q-${state}`} data-testid="question" data-state=${state}>
    <div class="q-top">
      <span class="q-header" data-testid="question-header">${clean(q.header, 200)}</span>
      ${total > 1 && html`<span class="q-count">${index + 1} of ${total}</span>`}
      ${q.multiSelect && html`<span class="q-count">choose any</span>`}
      ${state === "answered" && html`<span class="q-sent">sent</span>`}
      ${state === "waiting" && html`<span class="q-wait">answer ${index} first</span>`}
    </div>
    <p class="q-text" data-testid="question-text" id=${idBase}>${clean(q.question)}</p>
    <div class="options" role="group" aria-labelledby=${idBase}>
      ${options.map((o, i) => {
        const n = i + 1;
        const on = q.multiSelect && picked.includes(n);
        return html`<button type="button" class=${`option${on ? " on" : ""}`} data-testid="option"
            data-option=${n} disabled=${disabled} aria-pressed=${q.multiSelect ? String(on) : undefined}
            onClick=${() => onOption(n)}>
          <span class="opt-num" aria-hidden="true">${n}</span>
          <span class="opt-text">
            <span class="opt-label" data-testid="option-label">${clean(o.label, 500)}</span>
            <span class="opt-desc" data-testid="option-description">${clean(o.description)}</span>
          </span>
        </button>`;
      })}
    </div>
    ${q.multiSelect && html`<button type="button" class="primary multi-submit" data-testid="multi-submit"
        disabled=${disabled || !picked.length} onClick=${onSubmitMulti}>
      ${picked.length ? `Submit ${chosen}` : "Submit"}</button>`}
    <form class="other" onSubmit=${submitFree}>
      <input type="text" data-testid="other-input" placeholder="Other / type an answer"
        aria-label=${`Other answer to: ${clean(q.question, 200)}`} value=${other} disabled=${!live}
        onInput=${(e) => setOther(e.currentTarget.value)} />
      <button type="submit" data-testid="other-send" disabled=${disabled || !other.trim()}>Send</button>
    </form>
  </div>`;
}
