/**
 * The one panel shell, shared by the conversation, Activity, Usage and History panels: a modal
 * dialog (`role="dialog"`, `aria-modal`, named by its heading) over a backdrop that closes it on a
 * click, a header with the title, a line of facts under it and × (Close); Esc anywhere in it
 * closes it (or goes back one step: `onEscape`). Opening moves the focus into it (the panel, or
 * what `initialFocus` returns); closing a panel opened from a top bar button (`opener`) gives the
 * focus back to that button, unless the user moved it elsewhere meanwhile. The App makes the page
 * behind `inert` while a panel is open, so Tab stays in it. The body, with its scroller
 * (`.conv-scroll`), is the panel's own: the children.
 */
import { html, useLayoutEffect, useRef } from "../../lib/preact.js";

/**
 * Props: testid, className (beside "conversation", the class the panel CSS hangs on), titleId,
 * title, meta (the facts under the title), closeName ("usage": `close-usage`, "Close usage"),
 * onClose(), onEscape() (default onClose), initialFocus() (the element to focus on opening, or
 * null: the panel), opener (selector of the button that gets the focus back), dialogRef (a ref
 * to the panel's element), children.
 */
export function Panel({
  testid, className = "", titleId, title, meta, closeName, onClose, onEscape, initialFocus, opener,
  dialogRef, children,
}) {
  const own = useRef(null);
  const dialog = dialogRef || own;

  useLayoutEffect(() => {
    const target = (initialFocus && initialFocus()) || dialog.current;
    if (target) target.focus({ preventScroll: true });
    if (!opener) return undefined;
    const node = dialog.current;
    // In a microtask: once the closing render is committed, the page is no longer inert.
    return () => Promise.resolve().then(() => {
      const active = document.activeElement;
      const button = document.querySelector(opener);
      if (button && (!active || active === document.body || (node && node.contains(active)))) {
        button.focus();
      }
    });
  }, []);

  const onKeyDown = (e) => {
    if (e.key !== "Escape") return;
    e.preventDefault();
    e.stopPropagation();
    (onEscape || onClose)();
  };
  return html`<div class="backdrop" onClick=${(e) => e.target === e.currentTarget && onClose()}>
    <section class=${className ? `conversation ${className}` : "conversation"} role="dialog" aria-modal="true"
        aria-labelledby=${titleId} data-testid=${testid} tabindex="-1" ref=${dialog} onKeyDown=${onKeyDown}>
      <header class="conv-head">
        <div class="conv-title">
          <h2 id=${titleId}>${title}</h2>
          <div class="conv-meta">${meta}</div>
        </div>
        <button type="button" class="icon-button close" data-testid=${`close-${closeName}`}
          aria-label=${`Close ${closeName}`} title="Close (Esc)" onClick=${onClose}>×</button>
      </header>
      ${children}
    </section>
  </div>`;
}
