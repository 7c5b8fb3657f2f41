/**
 * The machine a card's session runs on: the remote's name, or a quiet "local" for this machine
 * when there are remotes (none at all when there are not: one machine needs no label).
 */
import { html, useContext } from "../../lib/preact.js";
import { localId, machineOf } from "../../state/machines.js";
import { clean } from "../../state/text.js";
import { MachinesContext } from "./machine-context.js";

/** Props: session. */
export function MachineBadge({ session }) {
  const { remotes } = useContext(MachinesContext);
  const name = machineOf(session);
  if (!name && !remotes) return null;
  const id = clean(localId(session), 200);
  return html`<span class=${`machine-badge${name ? "" : " local"}`} data-testid="machine-badge" data-machine=${name}
      title=${name ? `On ${clean(name, 64)}: session ${id}` : `On this machine: session ${id}`}>${name ? clean(name, 64) : "local"}</span>`;
}
