// DOM helpers of the renderer's views (viewer, gallery): element builders, the stylesheet
// injection that honours the webviews' CSP nonce, a notice line, unique ids.
import { VIEWER_CSS } from './styles';

export type Child = Node | string;
const SVG_NS = 'http://www.w3.org/2000/svg';
let nextId = 0;

/** An id unique in this document, for aria links between elements. */
export function uniqueId(prefix = 'xssab'): string {
  return `${prefix}-${++nextId}`;
}

export function el<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = doc.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

export function svg(doc: Document, tag: string, attrs: Record<string, string | number>, ...children: Child[]): SVGElement {
  const node = doc.createElementNS(SVG_NS, tag) as SVGElement;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

/** Adds a stylesheet (the viewer's by default) once per document or shadow root. */
export function injectStyles(root: HTMLElement, nonce: string | undefined, name = 'viewer', css = VIEWER_CSS): void {
  const scope = root.getRootNode() as Document | ShadowRoot;
  if (scope.querySelector?.(`style[data-xssab-${name}]`)) return;
  const doc = root.ownerDocument;
  const style = el(doc, 'style', { [`data-xssab-${name}`]: '' }, css);
  if (nonce) style.nonce = nonce;
  ('head' in scope && scope.head ? scope.head : scope).append(style);
}

/** Replaces the content of `root` with one line of text (progress, information or an error). */
export function renderNotice(root: HTMLElement, text: string, kind: 'progress' | 'info' | 'error' = 'info'): HTMLElement {
  const p = el(root.ownerDocument, 'p', { class: `xssab-notice xssab-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  if (kind === 'progress') p.setAttribute('aria-busy', 'true');
  root.replaceChildren(p);
  return p;
}

