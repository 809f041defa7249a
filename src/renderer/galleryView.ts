// The pair-list gallery, shared by the gallery webview panel and the notebook renderer: the
// summary's rates, the aggregate maps (the FNM − TM headline first), and a sortable, filterable
// grid of the pairs. The grid is virtual: only the rows in view (plus a few) are in the DOM, so
// lists of thousands of pairs stay responsive. Same CSP rules as the viewer (see viewer.ts).
import { legendStops } from '../shared/colour';
import { MAP_KINDS, type MapKind } from '../shared/result';
import type { GalleryData, MapFiles, ModelOutcome, ModelSummary, PairListSummary } from '../shared/pairListSummary';
import { THUMB_FACE } from '../shared/pairListSummary';
import {
  columnsFor,
  DEFAULT_QUERY,
  failureLine,
  fileUri,
  type GalleryItem,
  type GalleryQuery,
  galleryItems,
  gridLayout,
  type GridLayout,
  ITEM_KINDS,
  LABELS,
  queryItems,
  SORT_KEYS,
  thumbPath,
  thumbRows,
  visibleRows,
} from './galleryModel';
import type { GalleryMessage } from '../shared/protocol';
import { GALLERY_CSS } from './styles';
import { el, injectStyles } from './dom';
import { displayName, formatPercent, formatScore, formatSigned } from './format';

/** Where the gallery sends its requests; null in a notebook output without messaging. */
export interface GalleryHost {
  post(message: GalleryMessage): void;
}

export interface GalleryOptions {
  styleNonce?: string;
  /** CSS height of the scrolling grid. */
  gridHeight?: string;
}

export interface GalleryHandle {
  update(data: GalleryData): void;
  /** Pairs listed after filtering. */
  readonly shown: number;
  dispose(): void;
}

/** Viewport size assumed where layout is unknown (a hidden webview, JSDOM). */
const FALLBACK_VIEWPORT = { width: 800, height: 600 };

const outcomeText = (o: ModelOutcome) => `${formatScore(o.score)} · ${o.decision}`;

class Gallery implements GalleryHandle {
  private readonly doc: Document;
  private readonly header: HTMLElement;
  private readonly maps: HTMLElement;
  private readonly detail: HTMLElement;
  private readonly count: HTMLOutputElement;
  private readonly scroller: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly selects: { sort: HTMLSelectElement; kind: HTMLSelectElement; label: HTMLSelectElement };
  private readonly descending: HTMLInputElement;
  private readonly search: HTMLInputElement;
  private readonly resize?: ResizeObserver;
  private data!: GalleryData;
  private items: GalleryItem[] = [];
  private listed: GalleryItem[] = [];
  private layout!: GridLayout;
  private query: GalleryQuery = { ...DEFAULT_QUERY };
  /** Position in `listed` of the card that holds the grid's tab stop. */
  private focus = 0;
  private selected?: number;
  /** What the rendered rows show, to skip re-rendering on scrolls within the same rows. */
  private rendered = '';

  constructor(
    root: HTMLElement,
    data: GalleryData,
    private readonly host: GalleryHost | null | undefined,
    options: GalleryOptions,
  ) {
    this.doc = root.ownerDocument;
    const doc = this.doc;
    injectStyles(root, options.styleNonce);
    injectStyles(root, options.styleNonce, 'gallery', GALLERY_CSS);

    const select = (label: string, values: readonly string[], names: Record<string, string> = {}) =>
      el(doc, 'select', { 'aria-label': label }, ...values.map((v) => el(doc, 'option', { value: v }, names[v] ?? v)));
    this.selects = {
      sort: select('Sort by', SORT_KEYS, { kind: 'error kind' }),
      kind: select('Error kind', ['all', ...ITEM_KINDS], { all: 'all kinds' }),
      label: select('Label', ['all', ...LABELS], { all: 'all labels' }),
    };
    this.selects.sort.value = this.query.sort;
    this.descending = el(doc, 'input', { type: 'checkbox' });
    this.search = el(doc, 'input', { type: 'search', placeholder: 'file name', 'aria-label': 'Filter by file name' });
    for (const control of [...Object.values(this.selects), this.descending, this.search]) {
      control.addEventListener(control === this.search ? 'input' : 'change', () => this.readQuery());
    }
    this.count = el(doc, 'output', { class: 'xssab-note', role: 'status' });
    const controls = el(doc, 'div', { class: 'xssab-controls xssab-gallery-controls', role: 'group', 'aria-label': 'Sort and filter the pairs' },
      el(doc, 'label', {}, 'Sort by', this.selects.sort),
      el(doc, 'label', {}, this.descending, 'Descending'),
      el(doc, 'label', {}, 'Show', this.selects.kind),
      this.selects.label,
      this.search,
      this.count,
    );

    this.spacer = el(doc, 'div', { class: 'xssab-gallery-spacer' });
    this.scroller = el(doc, 'div', { class: 'xssab-gallery-scroller', role: 'grid', 'aria-label': 'Pairs' }, this.spacer);
    this.scroller.style.height = options.gridHeight ?? 'max(240px, 70vh)';
    this.scroller.addEventListener('scroll', () => this.renderRows());
    this.scroller.addEventListener('keydown', (e) => this.onKey(e));
    const Observer = doc.defaultView?.ResizeObserver;
    if (Observer) {
      this.resize = new Observer(() => this.renderRows());
      this.resize.observe(this.scroller);
    }

    this.header = el(doc, 'header', { class: 'xssab-header' });
    this.maps = el(doc, 'section', { 'aria-label': 'Aggregate maps' });
    this.detail = el(doc, 'section', { class: 'xssab-gallery-detail', 'aria-label': 'Selected pair', 'aria-live': 'polite' });
    this.update(data); // throws on a broken summary before `root` is touched
    root.replaceChildren(el(doc, 'div', { class: 'xssab-viewer xssab-gallery' }, this.header, this.maps, el(doc, 'h3', {}, 'Pairs'), controls, this.detail, this.scroller));
    this.renderRows(); // in the document now, the grid has its real width
  }

  get shown(): number {
    return this.listed.length;
  }

  update(data: GalleryData): void {
    this.data = data;
    this.items = galleryItems(data.summary);
    this.layout = gridLayout(data.summary);
    this.selected = undefined;
    this.detail.replaceChildren();
    this.renderHeader(data.summary);
    this.renderMaps(data.summary);
    this.applyQuery();
  }

  dispose(): void {
    this.resize?.disconnect();
  }

  private readQuery(): void {
    this.query = {
      sort: this.selects.sort.value as GalleryQuery['sort'],
      descending: this.descending.checked,
      kind: this.selects.kind.value as GalleryQuery['kind'],
      label: this.selects.label.value as GalleryQuery['label'],
      text: this.search.value,
    };
    this.applyQuery();
  }

  private applyQuery(): void {
    this.listed = queryItems(this.items, this.query);
    this.focus = 0;
    this.scroller.scrollTop = 0;
    this.count.textContent = `${this.listed.length} of ${this.items.length} pairs`;
    this.rendered = '';
    this.renderRows();
    this.host?.post({ type: 'shown', pairs: this.listed.length });
  }

  private renderHeader(s: PairListSummary): void {
    const doc = this.doc;
    const facts = el(doc, 'dl', { class: 'xssab-facts' },
      el(doc, 'dt', {}, 'List'), el(doc, 'dd', {}, s.list + (s.lfwRoot ? ` (LFW at ${s.lfwRoot})` : '')),
      el(doc, 'dt', {}, 'Pairs'), el(doc, 'dd', {}, `${s.explained} explained${s.failed ? `, ${s.failed} failed` : ''}`),
    );
    for (const m of s.models) {
      facts.append(
        el(doc, 'dt', {}, `${m.key}: ${m.name}`),
        el(doc, 'dd', {}, `threshold ${formatScore(m.threshold)} (${m.thresholdSource}) · FMR ${formatPercent(m.fmr)} (${m.counts['false match']} of ${m.impostor}) · FNMR ${formatPercent(m.fnmr)} (${m.counts['false non-match']} of ${m.genuine})`),
      );
    }
    if (s.comparison) facts.append(el(doc, 'dt', {}, 'Decisions differ'), el(doc, 'dd', {}, `${s.comparison.disagreements.length} pair(s)`));
    const buttons: HTMLElement[] = [];
    if (this.host) {
      const host = this.host;
      const report = el(doc, 'button', { type: 'button' }, 'Open report.html');
      report.addEventListener('click', () => host.post({ type: 'openRun', what: 'report' }));
      const folder = el(doc, 'button', { type: 'button' }, 'Reveal the run folder');
      folder.addEventListener('click', () => host.post({ type: 'openRun', what: 'folder' }));
      buttons.push(el(doc, 'p', { class: 'xssab-run-files' }, report, ' ', folder));
    }
    this.header.replaceChildren(el(doc, 'h2', {}, `xSSAB: ${displayName(s.list)}`), facts, ...buttons);
  }

  /** The headline maps (FNM − TM) first, then each model's group means, then A − B per group. */
  private renderMaps(s: PairListSummary): void {
    const doc = this.doc;
    // A map enlarges on a click (and back).
    const image = (files: MapFiles, alt: string) => {
      const src = fileUri(this.data.files, files.png);
      if (!src) return el(doc, 'span', { class: 'xssab-note' }, '(not included)');
      const button = el(doc, 'button', { type: 'button', class: 'xssab-gallery-map', 'aria-expanded': 'false', title: 'Enlarge' }, el(doc, 'img', { src, alt }));
      button.addEventListener('click', () => {
        const enlarged = button.getAttribute('aria-expanded') !== 'true';
        button.setAttribute('aria-expanded', String(enlarged));
        button.title = enlarged ? 'Shrink' : 'Enlarge';
      });
      return button;
    };
    const legend = (kind: MapKind, low: string, high: string, note: string) => {
      const bar = el(doc, 'span', { class: 'xssab-legend-bar', 'aria-hidden': 'true' });
      bar.style.backgroundImage = `linear-gradient(to right, ${legendStops(kind).join(', ')})`;
      return el(doc, 'div', { class: 'xssab-gallery-legend' }, el(doc, 'div', { class: 'xssab-legend' }, el(doc, 'span', {}, low), bar, el(doc, 'span', {}, high)), el(doc, 'small', { class: 'xssab-legend-note' }, note));
    };
    const meansLegend = el(doc, 'div', { class: 'xssab-gallery-legends' },
      ...MAP_KINDS.map((k) => legend(k, k === 'combined' ? 'opposes' : '0', k === 'combined' ? 'supports' : 'high', `${k}: each group's map on its own range, clipped at the 99th percentile${k === 'combined' ? '' : '; shared by similarity and dissimilarity'}`)),
    );
    const figure = (caption: string, ...content: Node[]) => el(doc, 'figure', {}, ...content, el(doc, 'figcaption', {}, caption));
    const groups = (name: string, list: { group: string; pairs: string; maps: Record<string, MapFiles> }[]) =>
      list.map((g) =>
        figure(`${name}${g.group} (${g.pairs} pairs): ${MAP_KINDS.join(', ')}`, el(doc, 'div', { class: 'xssab-gallery-kinds' }, ...MAP_KINDS.map((k) => image(g.maps[k], `${name}${g.group}, mean ${k} map`)))),
      );
    const headline = s.models
      .filter((m): m is ModelSummary & { fnmMinusTm: MapFiles } => !!m.fnmMinusTm)
      .map((m) =>
        el(doc, 'div', { class: 'xssab-gallery-headline' },
          figure(`${m.key}: mean combined map over false non-matches − over true matches`, image(m.fnmMinusTm, `${m.key}: where false non-matches differ from true matches`),
            legend('combined', 'less similarity in FNM', 'more', 'symmetric around 0, to the largest difference')),
        ),
      );
    const modelPrefix = (m: ModelSummary) => (s.models.length > 1 ? `${m.key}, ` : '');
    const means = s.models.flatMap((m) => groups(modelPrefix(m), m.aggregates.map((g) => ({ ...g, pairs: String(g.pairs) }))));
    const differences = groups('A − B, ', (s.comparison?.aggregates ?? []).map((g) => ({ ...g, pairs: g.pairs.join(' / ') })));
    this.maps.replaceChildren(
      el(doc, 'h3', {}, 'Aggregate maps'),
      headline.length || means.length
        ? el(doc, 'div', { class: 'xssab-gallery-maps' }, ...headline, ...means, ...(means.length ? [meansLegend] : []), ...differences)
        : el(doc, 'p', { class: 'xssab-note' }, 'No aggregate maps: no labelled pair was explained.'),
    );
  }

  private viewport(): { width: number; height: number } {
    return { width: this.scroller.clientWidth || FALLBACK_VIEWPORT.width, height: this.scroller.clientHeight || FALLBACK_VIEWPORT.height };
  }

  private get columns(): number {
    return columnsFor(this.viewport().width, this.layout.cardWidth);
  }

  private renderRows(): void {
    const { rowHeight } = this.layout;
    const columns = this.columns;
    const rowCount = Math.ceil(this.listed.length / columns);
    const { first, end } = visibleRows(this.scroller.scrollTop, this.viewport().height, rowHeight, rowCount);
    const key = `${first}:${end}:${columns}:${this.focus}:${this.selected}`;
    if (key === this.rendered) return;
    this.rendered = key;
    this.spacer.style.height = `${rowCount * rowHeight}px`;
    this.scroller.setAttribute('aria-rowcount', String(rowCount));
    const rows: HTMLElement[] = [];
    for (let r = first; r < end; r++) {
      const row = el(this.doc, 'div', { class: 'xssab-gallery-row', role: 'row', 'aria-rowindex': String(r + 1) });
      row.style.top = `${r * rowHeight}px`;
      row.style.height = `${rowHeight}px`;
      for (let k = r * columns; k < Math.min(this.listed.length, (r + 1) * columns); k++) {
        row.append(el(this.doc, 'div', { role: 'gridcell' }, this.card(this.listed[k], k)));
      }
      rows.push(row);
    }
    this.spacer.replaceChildren(...rows);
  }

  private thumb(item: GalleryItem, height: number): HTMLElement {
    const src = item.outcome && fileUri(this.data.files, thumbPath(item.dir));
    if (src) return el(this.doc, 'img', { src, alt: '' });
    const placeholder = el(this.doc, 'span', { class: 'xssab-gallery-placeholder' }, item.outcome ? 'no thumbnail' : 'not explained');
    placeholder.style.height = `${height}px`;
    return placeholder;
  }

  private card(item: GalleryItem, position: number): HTMLButtonElement {
    const doc = this.doc;
    const lines = [
      `#${item.index} · ${item.label}`,
      item.outcome ? (item.outcomeB ? `A ${outcomeText(item.outcome)} · B ${outcomeText(item.outcomeB)}` : outcomeText(item.outcome)) : item.failed ? failureLine(item.failed) : 'not explained',
      item.kind + (item.disagree ? ' · models disagree' : ''),
    ];
    const button = el(doc, 'button', {
      type: 'button',
      class: `xssab-gallery-card${item.index === this.selected ? ' xssab-selected' : ''}`,
      tabindex: position === this.focus ? '0' : '-1',
      title: `${displayName(item.a)} ↔ ${displayName(item.b)}`,
      'aria-label': `Pair ${item.index}: ${displayName(item.a)} and ${displayName(item.b)}; ${lines.slice(1).join('; ')}`,
      'data-position': String(position),
    },
      this.thumb(item, thumbRows(this.data.summary) * THUMB_FACE),
      ...lines.map((text, i) => el(doc, 'span', i === 2 && item.kind.startsWith('false') ? { class: 'xssab-gallery-error' } : {}, text)),
    );
    button.style.width = `${this.layout.cardWidth}px`;
    button.style.height = `${this.layout.rowHeight}px`;
    button.addEventListener('click', () => this.choose(position));
    return button;
  }

  /** Selects a pair (details above the grid) and, with a host, opens it in the viewer. */
  private choose(position: number): void {
    const item = this.listed[position];
    this.focus = position;
    this.selected = item.index;
    this.renderDetail(item);
    this.rendered = '';
    this.renderRows();
    this.focusCard();
    if (item.outcome) this.host?.post({ type: 'openPair', index: item.index, model: 'model-a' });
  }

  private renderDetail(item: GalleryItem): void {
    const doc = this.doc;
    const facts = el(doc, 'dl', { class: 'xssab-facts' },
      el(doc, 'dt', {}, 'Pair'), el(doc, 'dd', {}, `#${item.index} · ${item.label} · ${item.kind}`),
      el(doc, 'dt', {}, 'A'), el(doc, 'dd', {}, item.a),
      el(doc, 'dt', {}, 'B'), el(doc, 'dd', {}, item.b),
    );
    const outcomes: [string, ModelOutcome | undefined][] = [['model-a', item.outcome], ['model-b', item.outcomeB]];
    for (const [key, o] of outcomes) {
      if (o) facts.append(el(doc, 'dt', {}, key), el(doc, 'dd', {}, `score ${formatScore(o.score)} (${formatSigned(o.margin)} from the threshold) · ${o.decision}`));
    }
    if (item.failed) facts.append(el(doc, 'dt', {}, 'Not explained'), el(doc, 'dd', {}, item.failed));
    const content: Node[] = [this.thumb(item, 2 * thumbRows(this.data.summary) * THUMB_FACE), facts];
    if (this.host && item.outcomeB) {
      const openB = el(doc, 'button', { type: 'button' }, 'Open model B’s explanation');
      openB.addEventListener('click', () => this.host?.post({ type: 'openPair', index: item.index, model: 'model-b' }));
      content.push(openB);
    }
    this.detail.replaceChildren(...content);
  }

  /** Arrow keys, Home/End and Page Up/Down move between cards; Enter and Space open one (buttons). */
  private onKey(e: KeyboardEvent): void {
    const columns = this.columns;
    const page = columns * Math.max(1, Math.floor(this.viewport().height / this.layout.rowHeight));
    const moves: Record<string, number> = {
      ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns, PageDown: page, PageUp: -page,
      Home: -Infinity, End: Infinity,
    };
    if (!(e.key in moves) || this.listed.length === 0) return;
    e.preventDefault();
    this.focus = Math.max(0, Math.min(this.listed.length - 1, this.focus + moves[e.key]));
    // Bring the card's row into view; the scroll handler renders it.
    const top = Math.floor(this.focus / columns) * this.layout.rowHeight;
    const { height } = this.viewport();
    if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
    else if (top + this.layout.rowHeight > this.scroller.scrollTop + height) this.scroller.scrollTop = top + this.layout.rowHeight - height;
    this.renderRows();
    this.focusCard();
  }

  private focusCard(): void {
    this.spacer.querySelector<HTMLButtonElement>(`[data-position="${this.focus}"]`)?.focus({ preventScroll: true });
  }
}

/** Builds the gallery into `root` (replacing its content); without a host, clicks only select. */
export function renderGallery(root: HTMLElement, data: GalleryData, host: GalleryHost | null | undefined, options: GalleryOptions = {}): GalleryHandle {
  return new Gallery(root, data, host, options);
}
