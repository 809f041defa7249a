// The pair-list gallery, shared by the gallery webview panel and the notebook renderer: the
// summary's rates, the group table of a run grouped by attributes, the aggregate maps (the
// FNM − TM headline first), and a sortable, filterable grid of the pairs. The grid is virtual: only
// the rows in view (plus a few) are in the DOM, and it holds only the pages of pairs near the view,
// which it asks its page source for (the host, for the panel; the pairs a notebook output carries).
// Same CSP rules as the viewer (see viewer.ts).
import { legendStops } from '../shared/colour';
import { MAP_KINDS, type MapKind } from '../shared/result';
import type { MapFiles, ModelGroups, ModelOutcome, Rate } from '../shared/pairListSummary';
import { THUMB_FACE } from '../shared/pairListSummary';
import {
  ALL_GROUPS,
  DEFAULT_QUERY,
  fileName,
  type GalleryData,
  type GalleryItem,
  type GalleryPage,
  type GalleryQuery,
  type GallerySummary,
  ITEM_KINDS,
  ItemPager,
  LABELS,
  PAGE_SIZE,
  SORT_KEYS,
} from '../shared/galleryPages';
import { columnsFor, failureLine, fileUri, gridLayout, type GridLayout, thumbRows, visibleRows } from './galleryModel';
import type { GalleryMessage } from '../shared/protocol';
import { GALLERY_CSS } from './styles';
import { el, injectStyles } from './dom';
import { displayName, formatPercent, formatScore, formatSigned } from './format';

/** Where the gallery sends its requests; null in a notebook output without messaging. */
export interface GalleryHost {
  post(message: GalleryMessage): void;
}

/** Pairs [offset, offset + limit) of a query: from the host, or at once from carried pairs. */
export type PageSource = (query: GalleryQuery, offset: number, limit: number) => Promise<GalleryPage> | GalleryPage;

/** The pages of the pairs a page carries (a notebook output's), sorted and filtered here. */
export function carriedPages(carried: GalleryPage): PageSource {
  const pager = new ItemPager(carried.items);
  return (query, offset, limit) => ({ ...pager.page(query, offset, limit), query, thumbs: carried.thumbs });
}

export interface GalleryOptions {
  styleNonce?: string;
  /** CSS height of the scrolling grid. */
  gridHeight?: string;
  /** Where later pages come from (default: only the pairs the data's page carries). */
  pages?: PageSource;
}

export interface GalleryHandle {
  update(data: GalleryData): void;
  /** Pairs listed after filtering. */
  readonly shown: number;
  dispose(): void;
}

/** Viewport size assumed where layout is unknown (a hidden webview, JSDOM). */
const FALLBACK_VIEWPORT = { width: 800, height: 600 };

/** Pages of pairs kept around the view; farther ones are dropped and asked for again when needed. */
const PAGES_KEPT = 24;

const outcomeText = (o: ModelOutcome) => `${formatScore(o.score)} · ${o.decision}`;
const queryKey = (q: GalleryQuery) => JSON.stringify([q.sort, q.descending, q.kind, q.label, q.group, q.text]);
const rateText = (r: Rate) => `${formatPercent(r.rate)} [${formatPercent(r.low)}, ${formatPercent(r.high)}]`;

class Gallery implements GalleryHandle {
  private readonly doc: Document;
  private readonly header: HTMLElement;
  private readonly groups: HTMLElement;
  private readonly maps: HTMLElement;
  private readonly detail: HTMLElement;
  private readonly count: HTMLOutputElement;
  private readonly more: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly selects: { sort: HTMLSelectElement; kind: HTMLSelectElement; label: HTMLSelectElement; group: HTMLSelectElement };
  private readonly descending: HTMLInputElement;
  private readonly search: HTMLInputElement;
  private readonly resize?: ResizeObserver;
  private pages: PageSource;
  private data!: GalleryData;
  private layout!: GridLayout;
  private query: GalleryQuery = { ...DEFAULT_QUERY };
  /** Pairs the query keeps, and in the run (or the output), as the last page said. */
  private total = 0;
  private all = 0;
  /** Loaded pages of the current query by page number, and the ones asked for. */
  private loaded = new Map<number, GalleryItem[]>();
  private asked = new Set<number>();
  private thumbs = new Map<number, string>();
  /** Position of the card that holds the grid's tab stop. */
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
    this.pages = options.pages ?? carriedPages(data.page);
    injectStyles(root, options.styleNonce);
    injectStyles(root, options.styleNonce, 'gallery', GALLERY_CSS);

    const select = (label: string, values: readonly string[], names: Record<string, string> = {}) =>
      el(doc, 'select', { 'aria-label': label }, ...values.map((v) => el(doc, 'option', { value: v }, names[v] ?? v)));
    this.selects = {
      sort: select('Sort by', SORT_KEYS, { kind: 'error kind' }),
      kind: select('Error kind', ['all', ...ITEM_KINDS], { all: 'all kinds' }),
      label: select('Label', ['all', ...LABELS], { all: 'all labels' }),
      group: select('Group', [ALL_GROUPS], { [ALL_GROUPS]: 'all groups' }),
    };
    this.selects.sort.value = this.query.sort;
    this.descending = el(doc, 'input', { type: 'checkbox' });
    this.search = el(doc, 'input', { type: 'search', placeholder: 'file name', 'aria-label': 'Filter by file name' });
    for (const control of [...Object.values(this.selects), this.descending, this.search]) {
      control.addEventListener(control === this.search ? 'input' : 'change', () => this.readQuery());
    }
    this.count = el(doc, 'output', { class: 'xssab-note', role: 'status' });
    this.more = el(doc, 'p', { class: 'xssab-note xssab-gallery-more' });
    const controls = el(doc, 'div', { class: 'xssab-controls xssab-gallery-controls', role: 'group', 'aria-label': 'Sort and filter the pairs' },
      el(doc, 'label', {}, 'Sort by', this.selects.sort),
      el(doc, 'label', {}, this.descending, 'Descending'),
      el(doc, 'label', {}, 'Show', this.selects.kind),
      this.selects.label,
      this.selects.group,
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
    this.groups = el(doc, 'section', { class: 'xssab-gallery-groups', 'aria-label': 'Error rates by group' });
    this.maps = el(doc, 'section', { 'aria-label': 'Aggregate maps' });
    this.detail = el(doc, 'section', { class: 'xssab-gallery-detail', 'aria-label': 'Selected pair', 'aria-live': 'polite' });
    this.update(data); // throws on a broken summary before `root` is touched
    root.replaceChildren(el(doc, 'div', { class: 'xssab-viewer xssab-gallery' }, this.header, this.groups, this.maps, el(doc, 'h3', {}, 'Pairs'), controls, this.more, this.detail, this.scroller));
    this.renderRows(); // in the document now, the grid has its real width
  }

  get shown(): number {
    return this.total;
  }

  /** A new run (or the same run again): its summary, and its first page for the default query. */
  update(data: GalleryData): void {
    this.data = data;
    this.layout = gridLayout(data.summary);
    this.selected = undefined;
    this.detail.replaceChildren();
    this.renderHeader(data.summary);
    this.renderGroups(data.summary);
    this.renderMaps(data.summary);
    this.groupChoices(data.summary);
    const others = data.run ? data.run.pairs - data.page.all : 0;
    this.more.textContent = data.run && others > 0 ? `This output carries ${data.page.all} of the run's ${data.run.pairs} pairs (disagreements and errors first); the other ${others} are in the run folder ${data.run.out}.` : '';
    this.more.hidden = !this.more.textContent;
    this.resetControls(data.page.query);
    this.startQuery();
    this.receive(data.page);
  }

  dispose(): void {
    this.resize?.disconnect();
  }

  private resetControls(query: GalleryQuery): void {
    this.query = { ...query };
    this.selects.sort.value = query.sort;
    this.selects.kind.value = query.kind;
    this.selects.label.value = query.label;
    this.selects.group.value = query.group;
    this.descending.checked = query.descending;
    this.search.value = query.text;
  }

  /** The group filter lists the groups of the group table; sorting by group needs one. */
  private groupChoices(s: GallerySummary): void {
    const names = [...new Set((s.groups?.models ?? []).flatMap((m) => m.groups.map((g) => g.name)))];
    this.selects.group.replaceChildren(el(this.doc, 'option', { value: ALL_GROUPS }, 'all groups'), ...names.map((n) => el(this.doc, 'option', { value: n }, n)));
    this.selects.group.hidden = names.length === 0;
    const byGroup = this.selects.sort.querySelector<HTMLOptionElement>('option[value="group"]')!;
    byGroup.hidden = byGroup.disabled = names.length === 0;
  }

  private readQuery(): void {
    this.query = {
      sort: this.selects.sort.value as GalleryQuery['sort'],
      descending: this.descending.checked,
      kind: this.selects.kind.value as GalleryQuery['kind'],
      label: this.selects.label.value as GalleryQuery['label'],
      group: this.selects.group.value,
      text: this.search.value,
    };
    this.startQuery();
    this.request(0);
    this.renderRows(); // loading cards until the page comes
  }

  /** Forgets the pages of the last query; the grid starts at the top. */
  private startQuery(): void {
    this.loaded.clear();
    this.asked.clear();
    this.thumbs.clear();
    this.focus = 0;
    this.scroller.scrollTop = 0;
    this.rendered = '';
  }

  private request(pageNumber: number): void {
    if (this.asked.has(pageNumber)) return;
    this.asked.add(pageNumber);
    const answer = this.pages(this.query, pageNumber * PAGE_SIZE, PAGE_SIZE);
    if (answer instanceof Promise) {
      answer.then(
        (page) => this.receive(page),
        () => this.asked.delete(pageNumber), // asked again when its rows are drawn
      );
    } else this.receive(answer);
  }

  /** A page of the current query (pages of an earlier one are dropped). */
  private receive(page: GalleryPage): void {
    if (queryKey(page.query) !== queryKey(this.query)) return;
    const first = this.loaded.size === 0;
    for (let k = 0; k * PAGE_SIZE < page.items.length; k++) {
      const number = Math.floor(page.offset / PAGE_SIZE) + k;
      this.loaded.set(number, page.items.slice(k * PAGE_SIZE, (k + 1) * PAGE_SIZE));
      this.asked.add(number);
    }
    for (const [index, uri] of Object.entries(page.thumbs)) this.thumbs.set(Number(index), uri);
    this.total = page.total;
    this.all = page.all;
    this.count.textContent = `${this.total} of ${this.all} pairs`;
    this.rendered = '';
    const hadFocus = this.scroller.contains(this.doc.activeElement);
    this.renderRows();
    if (hadFocus) this.focusCard();
    if (first) this.host?.post({ type: 'shown', pairs: this.total });
  }

  private itemAt(position: number): GalleryItem | undefined {
    return this.loaded.get(Math.floor(position / PAGE_SIZE))?.[position % PAGE_SIZE];
  }

  /** Drops the loaded pages farthest from the ones in view, beyond PAGES_KEPT. */
  private forget(firstPage: number, lastPage: number): void {
    if (this.loaded.size <= PAGES_KEPT) return;
    const distance = (n: number) => (n < firstPage ? firstPage - n : n > lastPage ? n - lastPage : 0);
    const far = [...this.loaded.keys()].sort((p, q) => distance(q) - distance(p)).slice(0, this.loaded.size - PAGES_KEPT);
    for (const n of far) {
      for (const item of this.loaded.get(n)!) this.thumbs.delete(item.index);
      this.loaded.delete(n);
      this.asked.delete(n);
    }
  }

  private renderHeader(s: GallerySummary): void {
    const doc = this.doc;
    const facts = el(doc, 'dl', { class: 'xssab-facts' },
      el(doc, 'dt', {}, 'List'), el(doc, 'dd', {}, s.list + (s.lfwRoot ? ` (LFW at ${s.lfwRoot})` : '')),
      el(doc, 'dt', {}, 'Pairs'), el(doc, 'dd', {}, `${s.total} (${s.explained} explained${s.failed ? `, ${s.failed} failed` : ''})`),
    );
    for (const m of s.models) {
      const source = m.thresholdSource === 'at FMR' && m.atFmr !== undefined ? `at FMR ${formatPercent(m.atFmr)}` : m.thresholdSource;
      facts.append(
        el(doc, 'dt', {}, `${m.key}: ${m.name}`),
        el(doc, 'dd', {}, `threshold ${formatScore(m.threshold)} (${source}) · FMR ${formatPercent(m.fmr)} (${m.counts['false match']} of ${m.impostor}) · FNMR ${formatPercent(m.fnmr)} (${m.counts['false non-match']} of ${m.genuine})`),
      );
    }
    if (s.comparison) facts.append(el(doc, 'dt', {}, 'Decisions differ'), el(doc, 'dd', {}, `${s.comparison.disagreements} pair(s)`));
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

  /**
   * The group table (explain-pairs --by), per model: each group's FMR and FNMR at the run's
   * threshold with 95 % intervals, its counts and own EER; too-small and cross-group groups
   * marked. A group's name shows its pairs in the grid. Below each table the groups' mean
   * combined maps per error kind, and with --compare the differences X − Y per kind; or why the
   * run has none.
   */
  private renderGroups(s: GallerySummary): void {
    const doc = this.doc;
    const table = s.groups;
    this.groups.hidden = !table;
    if (!table) return this.groups.replaceChildren();
    const cells = (tag: 'th' | 'td', values: (string | Node)[]) => values.map((v) => el(doc, tag, {}, v));
    const model = (m: ModelGroups) => {
      const rows = m.groups.map((g) => {
        const show = el(doc, 'button', { type: 'button', title: `Show the pairs of ${g.name}` }, g.name);
        show.addEventListener('click', () => {
          this.selects.group.value = g.name;
          this.readQuery();
        });
        const notes = [...(g.crossGroup ? ['across groups'] : []), ...(g.tooSmall ? [`too small to compare (< ${table.minGroup} genuine or impostor)`] : [])];
        const row = el(doc, 'tr', g.tooSmall ? { class: 'xssab-too-small' } : {},
          ...cells('td', [show, String(g.genuine), String(g.impostor), rateText(g.global.fmr), rateText(g.global.fnmr), g.own ? `${formatPercent(g.own.eer)} at ${formatScore(g.own.threshold)}` : '–']),
          el(doc, 'td', { class: 'xssab-note' }, notes.join('; ')),
        );
        return row;
      });
      const ratio = (name: string, r: ModelGroups['fmrRatio']) => (r ? [`${name} worst/best ${r.ratio === null ? '∞ (best is 0)' : r.ratio.toFixed(2)} (${r.worst} / ${r.best})`] : []);
      const facts = [
        `impostors within groups: FMR ${rateText(m.impostors.withinGroup)}`,
        `across groups: FMR ${rateText(m.impostors.crossGroup)}`,
        ...ratio('FMR', m.fmrRatio),
        ...ratio('FNMR', m.fnmrRatio),
      ];
      const prefix = s.models.length > 1 ? `${m.key}: ` : '';
      const means = m.groups
        .filter((g) => g.aggregates?.length)
        .map((g) => this.figure(`${prefix}${g.name}${g.tooSmall ? ' (too small to compare)' : ''}: mean combined map per kind`,
          el(doc, 'div', { class: 'xssab-gallery-kinds' }, ...g.aggregates!.map((a) => this.figure(`${a.group} (${a.pairs})`, this.mapImage(a.maps.combined, `${g.name}, ${a.group}: mean combined map`))))));
      const compared = table.compare?.models.find((c) => c.key === m.key);
      const differences = compared?.kinds.length
        ? [this.figure(`${prefix}${table.compare!.x} − ${table.compare!.y}: mean combined maps per kind`,
            el(doc, 'div', { class: 'xssab-gallery-kinds' }, ...compared.kinds.map((k) => this.figure(`${k.group} (${k.pairs.join(' / ')})`, this.mapImage(k.maps.combined, `${k.group}: ${table.compare!.x} minus ${table.compare!.y}`))))),
          this.legend('combined', `less similarity in ${table.compare!.x}`, 'more', 'symmetric around 0, to the largest difference')]
        : [];
      return el(doc, 'figure', {},
        el(doc, 'table', {},
          el(doc, 'caption', {}, `${prefix}error rates by ${table.by.join(', ')} at threshold ${formatScore(m.threshold)} (95 % Wilson intervals)`),
          el(doc, 'thead', {}, el(doc, 'tr', {}, ...cells('th', ['Group', 'Genuine', 'Impostor', 'FMR', 'FNMR', 'Own EER', '']))),
          el(doc, 'tbody', {}, ...rows),
        ),
        el(doc, 'figcaption', { class: 'xssab-note' }, facts.join(' · ')),
        ...(means.length || differences.length
          ? [el(doc, 'div', { class: 'xssab-gallery-maps' }, ...means, ...(means.length ? [this.legend('combined', 'opposes', 'supports', "combined: each group's map on its own range, clipped at the 99th percentile")] : []), ...differences)]
          : []),
      );
    };
    const notes = [table.mapsNote, table.compare?.mapsNote].filter((n) => n !== undefined).map((n) => el(doc, 'p', { class: 'xssab-note' }, `⚠ ${n}.`));
    this.groups.replaceChildren(el(doc, 'h3', {}, `By ${table.by.join(', ')}`), ...notes, ...table.models.map(model));
  }

  /** A map image of the run folder that enlarges on a click (and back); a note where the output does not carry it. */
  private mapImage(files: MapFiles, alt: string): HTMLElement {
    const doc = this.doc;
    const src = fileUri(this.data.files, files.png);
    if (!src) return el(doc, 'span', { class: 'xssab-note' }, '(not included)');
    const button = el(doc, 'button', { type: 'button', class: 'xssab-gallery-map', 'aria-expanded': 'false', title: 'Enlarge' }, el(doc, 'img', { src, alt }));
    button.addEventListener('click', () => {
      const enlarged = button.getAttribute('aria-expanded') !== 'true';
      button.setAttribute('aria-expanded', String(enlarged));
      button.title = enlarged ? 'Shrink' : 'Enlarge';
    });
    return button;
  }

  /** A colour scale's legend: its words at the two ends, and what its range is. */
  private legend(kind: MapKind, low: string, high: string, note: string): HTMLElement {
    const doc = this.doc;
    const bar = el(doc, 'span', { class: 'xssab-legend-bar', 'aria-hidden': 'true' });
    bar.style.backgroundImage = `linear-gradient(to right, ${legendStops(kind).join(', ')})`;
    return el(doc, 'div', { class: 'xssab-gallery-legend' }, el(doc, 'div', { class: 'xssab-legend' }, el(doc, 'span', {}, low), bar, el(doc, 'span', {}, high)), el(doc, 'small', { class: 'xssab-legend-note' }, note));
  }

  private figure(caption: string, ...content: Node[]): HTMLElement {
    return el(this.doc, 'figure', {}, ...content, el(this.doc, 'figcaption', {}, caption));
  }

  /** The headline maps (FNM − TM) first, then each model's group means, then A − B per group. */
  private renderMaps(s: GallerySummary): void {
    const doc = this.doc;
    const meansLegend = el(doc, 'div', { class: 'xssab-gallery-legends' },
      ...MAP_KINDS.map((k) => this.legend(k, k === 'combined' ? 'opposes' : '0', k === 'combined' ? 'supports' : 'high', `${k}: each group's map on its own range, clipped at the 99th percentile${k === 'combined' ? '' : '; shared by similarity and dissimilarity'}`)),
    );
    const groups = (name: string, list: { group: string; pairs: string; maps: Record<string, MapFiles> }[]) =>
      list.map((g) =>
        this.figure(`${name}${g.group} (${g.pairs} pairs): ${MAP_KINDS.join(', ')}`, el(doc, 'div', { class: 'xssab-gallery-kinds' }, ...MAP_KINDS.map((k) => this.mapImage(g.maps[k], `${name}${g.group}, mean ${k} map`)))),
      );
    const headline = s.models
      .filter((m): m is GallerySummary['models'][number] & { fnmMinusTm: MapFiles } => !!m.fnmMinusTm)
      .map((m) =>
        el(doc, 'div', { class: 'xssab-gallery-headline' },
          this.figure(`${m.key}: mean combined map over false non-matches − over true matches`, this.mapImage(m.fnmMinusTm, `${m.key}: where false non-matches differ from true matches`),
            this.legend('combined', 'less similarity in FNM', 'more', 'symmetric around 0, to the largest difference')),
        ),
      );
    const modelPrefix = (m: GallerySummary['models'][number]) => (s.models.length > 1 ? `${m.key}, ` : '');
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
    const rowCount = Math.ceil(this.total / columns);
    const { first, end } = visibleRows(this.scroller.scrollTop, this.viewport().height, rowHeight, rowCount);
    const [firstPage, lastPage] = [Math.floor((first * columns) / PAGE_SIZE), Math.floor((Math.max(first, end - 1) * columns + columns - 1) / PAGE_SIZE)];
    for (let n = firstPage; n <= lastPage && n * PAGE_SIZE < this.total; n++) if (!this.loaded.has(n)) this.request(n);
    this.forget(firstPage, lastPage);
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
      for (let k = r * columns; k < Math.min(this.total, (r + 1) * columns); k++) {
        const item = this.itemAt(k);
        row.append(el(this.doc, 'div', { role: 'gridcell' }, item ? this.card(item, k) : this.loadingCard()));
      }
      rows.push(row);
    }
    this.spacer.replaceChildren(...rows);
  }

  private loadingCard(): HTMLElement {
    const card = el(this.doc, 'div', { class: 'xssab-gallery-card xssab-gallery-loading', 'aria-busy': 'true' }, this.placeholder('loading…', thumbRows(this.data.summary) * THUMB_FACE));
    card.style.width = `${this.layout.cardWidth}px`;
    card.style.height = `${this.layout.rowHeight}px`;
    return card;
  }

  private placeholder(text: string, height: number): HTMLElement {
    const placeholder = el(this.doc, 'span', { class: 'xssab-gallery-placeholder' }, text);
    placeholder.style.height = `${height}px`;
    return placeholder;
  }

  /** The pair's thumbnail; a placeholder for pairs without one (failed, scored only). */
  private thumb(item: GalleryItem, height: number): HTMLElement {
    const src = this.thumbs.get(item.index);
    if (src) return el(this.doc, 'img', { src, alt: '' });
    return this.placeholder(!item.outcome ? 'not explained' : item.scoredOnly ? 'scored only' : 'no thumbnail', height);
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
      title: `${fileName(item.a)} ↔ ${fileName(item.b)}${item.group ? ` (${item.group})` : ''}`,
      'aria-label': `Pair ${item.index}: ${fileName(item.a)} and ${fileName(item.b)}; ${lines.slice(1).join('; ')}${item.group ? `; ${item.group}` : ''}`,
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

  /** Selects a pair (details above the grid) and, with a host, opens it in the viewer (explained again, live). */
  private choose(position: number): void {
    const item = this.itemAt(position);
    if (!item) return;
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
      el(doc, 'dt', {}, 'Pair'), el(doc, 'dd', {}, `#${item.index} · ${item.label} · ${item.kind}${item.scoredOnly ? ' · scored only (opening it explains it)' : ''}`),
      el(doc, 'dt', {}, 'A'), el(doc, 'dd', {}, item.a),
      el(doc, 'dt', {}, 'B'), el(doc, 'dd', {}, item.b),
    );
    if (item.group) facts.append(el(doc, 'dt', {}, 'Group'), el(doc, 'dd', {}, item.group));
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
    if (!(e.key in moves) || this.total === 0) return;
    e.preventDefault();
    this.focus = Math.max(0, Math.min(this.total - 1, this.focus + moves[e.key]));
    // Bring the card's row into view; the scroll handler renders it (and asks for its page).
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
