/**
 * What every card and the filter bar need to know about the machines, without threading it
 * through the overview and its groups: whether the page shows machines at all, the remotes'
 * names (the machine filter), and each machine's state and last seen (a card's staleness). The
 * App provides it and changes its identity only when one of those changes, so a machine event
 * that changes nothing a card shows re-renders no card (contexts reach through memo).
 */
import { createContext } from "../../lib/preact.js";

/** {remotes: boolean, names: [remote names], byName: {name: {state, last_seen}}} */
export const MachinesContext = createContext({ remotes: false, names: [], byName: {} });
