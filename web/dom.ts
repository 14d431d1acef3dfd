/**
 * The page's only ways to put text in the document: `textContent`, each
 * piece inside an element isolated for bidi (`dir="auto"`), never innerHTML.
 */

/** The element with `id` (the page's own markup, web/index.html). */
export function $<T extends HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

/** An element with untrusted `text`, isolated for bidi. */
export function el(tag: string, text: string, className?: string): HTMLElement {
  const node = document.createElement(tag);
  node.textContent = text;
  node.dir = 'auto';
  if (className) node.className = className;
  return node;
}

/** A plain button (not a submit) showing untrusted `text`. */
export function button(text: string, onClick: () => void, label?: string): HTMLButtonElement {
  const b = el('button', text) as HTMLButtonElement;
  b.type = 'button';
  if (label !== undefined) b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}
