/**
 * The machines of a hub (docs/remote.md): one item per remote, its state as a coloured dot and
 * in words ("Online", "Reconnecting…", "Offline"), "last seen …" while it is not online, and the
 * error the server reports (a failed `remote add`, a lost connection). Errors come from the
 * remote's own output: they are hostile text, shown as text only (state.clean). Clicking a
 * machine shows only its sessions (the machine filter; again: all machines). Ends with "Add
 * machine".
 */
import { html } from "../../lib/preact.js";
import { machineStateLabel } from "../../state/machines.js";
import { clean } from "../../state/text.js";
import { LastSeen } from "./last-seen.js";
import { AddMachine } from "./add-machine.js";

function MachineItem({ machine: m, skew, picked, onPick }) {
  const name = clean(m.name, 64);
  const target = clean(m.target, 200);
  const error = clean(m.error, 600).trim();
  const onClick = () => {
    // Selecting the error text to copy it is not a click on the machine.
    const sel = window.getSelection && window.getSelection();
    if (sel && !sel.isCollapsed && String(sel).trim()) return;
    onPick(m.name);
  };
  return html`<li class=${`machine m-${m.state}${picked ? " picked" : ""}`} data-testid="machine"
      data-machine=${m.name} data-state=${m.state} onClick=${onClick}>
    <button type="button" class="machine-pick" aria-pressed=${picked ? "true" : "false"}
        title=${picked ? "Show every machine's sessions" : `Show only the sessions on ${name}`}>
      <span class="machine-dot" aria-hidden="true"></span>
      <span class="machine-name" data-testid="machine-name">${name}</span>
      <span class="machine-state" data-testid="machine-state">${machineStateLabel(m.state)}</span>
    </button>
    ${target !== name && html`<code class="machine-target muted">${target}</code>`}
    ${m.state !== "online" && html`<${LastSeen} iso=${m.last_seen} skew=${skew} testid="machine-last-seen" />`}
    ${error && html`<p class="machine-error" data-testid="machine-error">${error}</p>`}
  </li>`;
}

/** Props: machines (state.normalizeMachines), skew, picked (the machine filter: null, "" or a name), onPick(name), onAdded(name). */
export function MachineStrip({ machines, skew, picked, onPick, onAdded }) {
  return html`<section class="machine-strip" data-testid="machine-strip" aria-labelledby="machines-title">
    <h2 class="machine-strip-title" id="machines-title">Machines</h2>
    <ul class="machine-list">
      ${machines.map((m) => html`<${MachineItem} key=${m.name} machine=${m} skew=${skew}
          picked=${picked === m.name} onPick=${onPick} />`)}
      <li class="machine-add"><${AddMachine} onAdded=${onAdded} /></li>
    </ul>
  </section>`;
}
