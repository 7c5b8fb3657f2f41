/**
 * The overview: the four status groups in order (needs attention, active, starting, done), or
 * the empty state when no session is running at all, or a note when the filters hide everything.
 */
import { html } from "../../lib/preact.js";
import { groupSessions } from "../../state/sessions.js";
import { SessionGroup } from "./session-group.js";
import { EmptyState } from "./empty-state.js";

/** Props: all (sessions not dismissed), shown (after filters), setup, skew, onOpen, onDismiss, errors, onClearFilters. */
export function Overview({ all, shown, setup, skew, onOpen, onDismiss, errors, onClearFilters }) {
  if (!all.length) return html`<${EmptyState} setup=${setup} />`;
  const groups = groupSessions(shown);
  return html`<div class="overview">
    ${!shown.length && html`<p class="no-match">No session matches the filters.
      <button type="button" class="link-button" onClick=${onClearFilters}>Clear filters</button></p>`}
    ${groups.map((g) => html`<${SessionGroup} key=${g.status} group=${g} skew=${skew}
        onOpen=${onOpen} onDismiss=${onDismiss} errors=${errors} />`)}
  </div>`;
}
