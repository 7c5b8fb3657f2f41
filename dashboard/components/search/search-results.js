/**
 * The search palette's results: hits grouped by session (its title, as text; project, agent,
 * time of its newest hit, its status when it is live), in the order of each session's best hit;
 * each hit says who spoke (you, the agent, a tool call, thinking) and shows its snippet. A listbox
 * of options (ids `search-hit-<n>`, in one flat order for the keyboard) inside one group per
 * session.
 */
import { html } from "../../lib/preact.js";
import { hitLabel } from "../../state/search.js";
import { agentLabel, statusLabel } from "../../state/sessions.js";
import { clean, formatClock } from "../../state/text.js";
import { SearchSnippet } from "./search-snippet.js";

/** Props: groups (state.groupHits), selected (flat index), live (Map id -> session), onPick(hit), onHover(n). */
export function SearchResults({ groups, selected, live, onPick, onHover }) {
  let n = 0;
  return html`<ul class="search-results" role="listbox" id="search-results" data-testid="search-results"
      aria-label="Search results">
    ${groups.map((g) => {
      const session = live.get(g.session_id);
      const head = `search-group-${g.session_id}`;
      return html`<li key=${g.session_id} class="search-group" role="group" aria-labelledby=${head}
          data-testid="search-group" data-session-id=${g.session_id} data-agent=${g.agent}>
        <div class="search-group-head" id=${head}>
          ${g.title && html`<span class="search-title" data-testid="search-title">${clean(g.title, 200)}</span>`}
          <span class="search-project" data-testid="search-project">${clean(g.project, 200) || "(no project)"}</span>
          <span data-testid="search-agent">${agentLabel(g.agent)}</span>
          <span data-testid="search-time">${formatClock(g.latest)}</span>
          ${session && html`<span data-testid="search-status">${statusLabel(session.status)}</span>`}
          <span>${g.hits.length === 1 ? "1 hit" : `${g.hits.length} hits`}</span>
        </div>
        ${g.hits.map((hit) => {
          const i = n++;
          return html`<div key=${hit.message_id} id=${`search-hit-${i}`} role="option" class="search-hit"
              data-testid="search-result" data-message-id=${hit.message_id} data-role=${hit.role}
              data-part=${hit.part}
              aria-selected=${i === selected ? "true" : "false"}
              onMouseMove=${() => i !== selected && onHover(i)} onClick=${() => onPick(hit)}>
            <span class="who">${hitLabel(hit, g.agent)}</span>
            <${SearchSnippet} snippet=${hit.snippet} />
          </div>`;
        })}
      </li>`;
    })}
  </ul>`;
}
