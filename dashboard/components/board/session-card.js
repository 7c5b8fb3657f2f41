/**
 * One session on the overview: project, agent, machine (when there are remotes), status (label
 * and colour), time in status, last message, pane, and, while it needs attention, the reason and
 * the controls to answer it. A remote session whose machine is not online is dimmed and says
 * "stale · last seen 2 min ago" (it may have moved on; answering it fails in words until its
 * machine is back).
 *
 * The card owns its answering state: which of several questions have been answered from here
 * (answers go to the first unanswered one), the options picked for a multiSelect question, and the
 * one request in flight (buttons disabled meanwhile; a failure is shown in the card, role=alert).
 */
import { html, memo, useContext, useState } from "../../lib/preact.js";
import { useAction } from "../../lib/hooks.js";
import { respond } from "../../lib/api.js";
import { machineOf, staleness } from "../../state/machines.js";
import {
  agentLabel, denyOption, paneLabel, questionsKey, reasonText, statusLabel,
} from "../../state/sessions.js";
import { clean } from "../../state/text.js";
import { StatusAge } from "./status-age.js";
import { QuestionBlock } from "./question-block.js";
import { PermissionPrompt } from "./permission-prompt.js";
import { ProseReply } from "./prose-reply.js";
import { StartDialog } from "./start-dialog.js";
import { ActionError } from "../common/action-error.js";
import { MachineBadge } from "../machines/machine-badge.js";
import { LastSeen } from "../machines/last-seen.js";
import { MachinesContext } from "../machines/machine-context.js";
import { CardUsage } from "../usage/usage-card.js";

const isEditable = (el) => !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

/** Props: session, skew, onOpen(session), onDismiss(session), externalError (e.g. a failed dismiss). */
export const SessionCard = memo(function SessionCard({ session: s, skew, onOpen, onDismiss, externalError }) {
  const action = useAction();
  const { byName } = useContext(MachinesContext);
  const { stale, lastSeen } = staleness(s, byName);
  const key = questionsKey(s);
  const [answers, setAnswers] = useState({ key, done: 0, picked: [] });
  const mine = answers.key === key ? answers : { key, done: 0, picked: [] };
  const attention = s.status === "needs_attention" ? s.attention || {} : null;
  const questions = attention ? s.pending_questions || [] : [];
  const current = questions[mine.done];

  // The question's id goes with its answer: one meant for a question that closed meanwhile is
  // refused (409), never typed into the next one (docs/api.md, `questionId`).
  const questionId = attention && attention.tool_use_id ? { questionId: attention.tool_use_id } : {};
  const send = (body) => action.run(() => respond(s.session_id, { ...body, ...questionId }));
  const advance = () => setAnswers({ key, done: mine.done + 1, picked: [] });

  const chooseOption = async (n) => {
    if (!current || action.busy || n < 1 || n > (current.options || []).length) return;
    if (current.multiSelect) {
      const picked = mine.picked.includes(n) ? mine.picked.filter((x) => x !== n) : [...mine.picked, n];
      setAnswers({ ...mine, picked });
    } else if (await send({ text: String(n), questionIndex: mine.done })) {
      advance();
    }
  };
  const submitMulti = async () => {
    if (!mine.picked.length) return;
    const text = mine.picked.slice().sort((a, b) => a - b).join(",");
    if (await send({ text, questionIndex: mine.done })) advance();
  };
  const sendFree = async (text) => {
    const ok = await send({ text, freeform: true, optionCount: (current.options || []).length,
      questionIndex: mine.done });
    if (ok) advance();
    return ok;
  };

  const onKeyDown = (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || isEditable(e.target)) return;
    if (e.key === "Enter" && e.target === e.currentTarget) {
      e.preventDefault();
      onOpen(s);
    } else if (/^[1-9]$/.test(e.key) && current) {
      e.preventDefault();
      chooseOption(Number(e.key));
    }
  };

  const preview = clean(s.last_message_preview, 400);
  const titleId = `card-${s.session_id}`;
  return html`<article class=${`card st-${s.status}`} data-testid="session-card" data-session-id=${s.session_id}
      data-machine=${machineOf(s)} data-stale=${stale ? "true" : undefined}
      tabindex="0" aria-labelledby=${titleId} onKeyDown=${onKeyDown}>
    <header class="card-head">
      <h3 class="project" id=${titleId} data-testid="project" title=${clean(s.project_dir) || undefined}>${clean(s.project, 200) || "(unknown project)"}</h3>
      <span class="agent" data-testid="agent">${agentLabel(s.agent)}</span>
      <${MachineBadge} session=${s} />
      <span class="spacer"></span>
      <span class="card-state">
        <span class="status-pill" data-testid="status">${statusLabel(s.status)}</span>
        <${StatusAge} session=${s} skew=${skew} />
      </span>
    </header>
    ${stale && html`<p class="stale-note"><${LastSeen} iso=${lastSeen} skew=${skew} prefix="stale · " testid="stale-note" /></p>`}
    ${attention && html`<p class="reason" data-testid="reason">${reasonText(s)}</p>`}
    ${s.subagents_running > 0 && html`<p class="subagents-note" data-testid="subagents-running"
        data-count=${s.subagents_running}>${s.subagents_running === 1 ? "1 subagent running"
        : `${Number(s.subagents_running)} subagents running`}</p>`}
    <p class=${`preview${preview ? "" : " muted"}`} data-testid="preview">${preview || "No messages yet"}</p>
    <${CardUsage} usage=${s.usage} />
    ${questions.map((q, i) => html`<${QuestionBlock} key=${`${key}-${i}`} q=${q} index=${i} total=${questions.length}
        state=${i < mine.done ? "answered" : i === mine.done ? "current" : "waiting"}
        picked=${i === mine.done ? mine.picked : []} busy=${action.busy}
        onOption=${chooseOption} onSubmitMulti=${submitMulti} onFree=${sendFree} />`)}
    ${attention && attention.kind === "permission" && html`<${PermissionPrompt} attention=${attention} busy=${action.busy}
        onAllow=${() => send({ text: "1" })} onDeny=${() => send({ text: String(denyOption(s)) })} />`}
    ${attention && attention.kind === "dialog" && html`<${StartDialog} attention=${attention} busy=${action.busy}
        onChoose=${(n) => send({ text: String(n) })} />`}
    ${attention && attention.kind === "prose_question" && html`<${ProseReply} text=${clean(attention.text)}
        busy=${action.busy} onSend=${(text) => send({ text })} />`}
    <${ActionError} message=${action.error || externalError} onDismiss=${action.error ? action.clearError : undefined} />
    <footer class="card-foot">
      <code class="pane" data-testid="pane">${paneLabel(s)}</code>
      <span class="spacer"></span>
      ${s.status === "done" && html`<button type="button" class="quiet" data-testid="dismiss"
          onClick=${() => onDismiss(s)}>Dismiss</button>`}
      <button type="button" data-testid="open-conversation" onClick=${() => onOpen(s)}>Open</button>
    </footer>
  </article>`;
});
