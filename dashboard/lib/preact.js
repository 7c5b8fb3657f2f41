/**
 * The seam between the dashboard and Preact: every component imports Preact, its hooks and the
 * `html` template tag from here and nowhere else, so the vendored library can be swapped or
 * upgraded in one place. The bare specifiers resolve through the import map in index.html to the
 * unmodified files in /vendor/ (see vendor/README.md).
 */
import { h, render, Fragment, createContext } from "preact";
import htm from "htm";

export { h, render, Fragment, createContext };
export {
  useState, useEffect, useLayoutEffect, useRef, useMemo, useCallback, useReducer, useContext,
} from "preact/hooks";

/** Tagged template that builds Preact elements: html`<p>${text}</p>` (text is never parsed as HTML). */
export const html = htm.bind(h);

/**
 * Return `Component` wrapped so that it re-renders only when one of its props changed identity
 * (as preact/compat's memo, which is not vendored). Its own state and hooks still update it. With
 * thousands of cards, one session changing re-renders one card.
 */
export function memo(Component) {
  function shouldUpdate(next) {
    const prev = this.props;
    for (const key in next) if (next[key] !== prev[key]) return true;
    for (const key in prev) if (!(key in next)) return true;
    return false;
  }
  function Memo(props) {
    this.shouldComponentUpdate = shouldUpdate;
    return h(Component, props);
  }
  Memo.displayName = `Memo(${Component.displayName || Component.name})`;
  return Memo;
}
