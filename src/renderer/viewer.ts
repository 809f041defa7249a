// The interactive explanation viewer, shared by the webview panel and the notebook renderer.
//
// Content Security Policy: the viewer runs under `default-src 'none'`. Its stylesheet is one
// <style> element; it carries `options.styleNonce` when given (the panel passes its script
// nonce, so the panel's CSP needs only `style-src 'nonce-…'`); without a nonce the page must allow
// `style-src 'unsafe-inline'` (notebook output webviews do). Per-element geometry (cursor
// position, aspect ratio, legend gradient, opacity) is set through the CSSOM (`element.style`),
// which CSP does not restrict. Images are data: URIs; canvases export through toDataURL. No inline
// event handler attributes, no eval, no network.
//
// Its parts: dom.ts (element helpers), format.ts (numbers and names for people), viewerModel.ts
// (the logic without the DOM: decoding, values, colours, geometry), argumentChart.ts.
import { legendStops } from '../shared/colour';
import { applyAffine, invertAffine, type Point } from '../shared/alignment';
import { type ExplanationPayload, type ImageInfo, type MapKind, SIDES, type Side } from '../shared/result';
import { DEFAULT_OPACITY, MAP_CHOICES, type MapChoice, type PanelMessage, type ViewPreferences } from '../shared/protocol';
import { argumentChart, CHART_ARGUMENTS } from './argumentChart';
import { type Child, el, injectStyles, uniqueId } from './dom';
import { checkChart } from './checkChart';
import { regionChart } from './regionChart';
import { decisionText, displayName, formatDuration, formatMapValue, formatScore, formatSigned, legendNote, readoutText } from './format';
import {
  clientToPixel,
  cropToPhotoCanvasMatrix,
  decodeFaceMaps,
  DEFAULT_DISPLAY,
  type Display,
  displayedMaps,
  type DecodedFaceMaps,
  mapRgba,
  faceRegionLabels,
  photoTransform,
  regionOutline,
  SMOOTHING_MAX,
  thumbnailStyle,
  topArguments,
  valuesAt,
  type View,
  zoomView,
} from './viewerModel';

/** Where the viewer sends its requests; null for a static notebook output without messaging. */
export interface ViewerHost {
  post(message: PanelMessage): void;
}

/** Original photos (data or webview URIs) to show the maps projected onto. */
export type Photos = Record<Side, string>;

export interface ViewerOptions {
  photos?: Photos;
  /** The map and opacity to start with; later explanations keep what the user chose. */
  view?: ViewPreferences;
  /** Nonce for the injected <style> element (see the CSP note at the top). */
  styleNonce?: string;
  /** Delay before a threshold change is sent to the host. */
  thresholdDebounceMs?: number;
  /** The host explains the pair again with another detected face (the panel; not notebooks). */
  chooseFace?: boolean;
  /**
   * Runs the trust check where there is no host to post `checkMap` to (a notebook request's
   * output): resolves once the checked explanation was handed to update(), rejects with what failed.
   */
  checkMap?: () => Promise<void>;
  /** The 2-D context of a canvas (default: its own); tests inject one to read what is drawn. */
  context?: (canvas: HTMLCanvasElement) => CanvasRenderingContext2D | null;
}

export interface ViewerHandle {
  /** Shows a new explanation, keeping the chosen map, opacity and view. */
  update(payload: ExplanationPayload, photos?: Photos): void;
  dispose(): void;
}

const THRESHOLD_DEBOUNCE_MS = 300;
const FACE_THUMB_PX = 40;
/** Region outlines in cyan: a colour none of the map scales uses. */
const OUTLINE_COLOUR: [number, number, number] = [0, 229, 255];

interface FaceView {
  figure: HTMLElement;
  caption: HTMLElement;
  stage: HTMLElement;
  image: HTMLImageElement;
  canvas: HTMLCanvasElement;
  /** The outline of the region hovered in the region chart. */
  outline: HTMLCanvasElement;
  cursor: HTMLElement;
  legend: HTMLElement;
  legendLow: HTMLElement;
  legendBar: HTMLElement;
  legendHigh: HTMLElement;
  legendNote: HTMLElement;
  readout: HTMLOutputElement;
  exportButton?: HTMLButtonElement;
  /** Which detected face of the photo is explained; shown when the photo has more than one. */
  faceChoice?: { label: HTMLLabelElement; select: HTMLSelectElement; thumbs: HTMLElement };
}

class Viewer implements ViewerHandle {
  private readonly doc: Document;
  private readonly container: HTMLElement;
  private readonly header: HTMLElement;
  private readonly decomposition: HTMLElement;
  private readonly regions: HTMLElement;
  private readonly check: HTMLElement;
  private readonly checkButton?: HTMLButtonElement;
  /** A notebook output's check in progress, or why it failed (the panel reports in its own status). */
  private readonly checkStatus: HTMLElement;
  private readonly decompositionHeadingId: string;
  private readonly kindSelect: HTMLSelectElement;
  private readonly opacityInput: HTMLInputElement;
  private readonly opacityText: HTMLOutputElement;
  private readonly contrastInput: HTMLInputElement;
  private readonly contrastText: HTMLOutputElement;
  private readonly smoothingInput: HTMLInputElement;
  private readonly smoothingText: HTMLOutputElement;
  private readonly photoToggle: HTMLLabelElement;
  private readonly photoCheckbox: HTMLInputElement;
  private readonly wholeToggle: HTMLLabelElement;
  private readonly wholeCheckbox: HTMLInputElement;
  private readonly thresholdNumber?: HTMLInputElement;
  private readonly thresholdSlider?: HTMLInputElement;
  private readonly status: HTMLElement;
  private readonly faces: Record<Side, FaceView>;
  private payload!: ExplanationPayload;
  private photos?: Photos;
  private maps!: Record<Side, DecodedFaceMaps>;
  /** The maps as drawn: values (smoothed when asked) and colour ranges (at the chosen contrast). */
  private shown!: Record<Side, ReturnType<typeof displayedMaps>>;
  private display: Display = { ...DEFAULT_DISPLAY };
  /** Each face's region of every crop pixel, and the region outlined (hovered in the chart). */
  private labels!: Record<Side, Uint8Array>;
  private highlighted: number | null = null;
  private kind: MapChoice = 'combined';
  private opacity = DEFAULT_OPACITY;
  private showPhotos = false;
  /** On the photos: the whole photo rather than the explained face with a margin. */
  private wholePhoto = false;
  /** The linked cursor, in crop pixels (the same aligned position on both faces). */
  private cursor: Point | null = null;
  private thresholdTimer?: ReturnType<typeof setTimeout>;
  private disposed = false;

  constructor(
    root: HTMLElement,
    payload: ExplanationPayload,
    private readonly host: ViewerHost | null | undefined,
    private readonly options: ViewerOptions,
  ) {
    this.doc = root.ownerDocument;
    this.kind = options.view?.map ?? this.kind;
    this.opacity = options.view?.opacity ?? this.opacity;
    this.display = { percentile: options.view?.colourRange ?? this.display.percentile, smoothing: options.view?.smoothing ?? this.display.smoothing };
    injectStyles(root, options.styleNonce);
    const doc = this.doc;
    const id = uniqueId();

    this.kindSelect = el(doc, 'select', { 'aria-label': 'Map shown over the faces' }, ...MAP_CHOICES.map((k) => el(doc, 'option', { value: k }, k)));
    this.kindSelect.value = this.kind;
    this.kindSelect.addEventListener('change', () => {
      this.kind = this.kindSelect.value as MapChoice;
      this.drawFaces();
    });

    this.opacityInput = el(doc, 'input', { type: 'range', min: '0', max: '1', step: '0.05', 'aria-label': 'Map opacity' });
    this.opacityInput.value = String(this.opacity);
    this.opacityText = el(doc, 'output', { 'aria-hidden': 'true' });
    this.opacityInput.addEventListener('input', () => {
      this.opacity = Number(this.opacityInput.value);
      this.applyOpacity();
    });

    this.contrastInput = el(doc, 'input', { type: 'range', min: '90', max: '100', step: '0.5', 'aria-label': 'Contrast: the percentile of the map values at which the colours saturate' });
    this.contrastInput.value = String(this.display.percentile);
    this.contrastText = el(doc, 'output', { 'aria-hidden': 'true' });
    this.contrastInput.addEventListener('input', () => {
      this.display.percentile = Number(this.contrastInput.value);
      this.refreshDisplay();
    });
    this.smoothingInput = el(doc, 'input', { type: 'range', min: '0', max: String(SMOOTHING_MAX), step: '0.5', 'aria-label': 'Smoothing of the shown maps (display only), σ in pixels' });
    this.smoothingInput.value = String(this.display.smoothing);
    this.smoothingText = el(doc, 'output', { 'aria-hidden': 'true' });
    this.smoothingInput.addEventListener('input', () => {
      this.display.smoothing = Number(this.smoothingInput.value);
      this.refreshDisplay();
    });

    this.photoCheckbox = el(doc, 'input', { type: 'checkbox' });
    this.photoToggle = el(doc, 'label', {}, this.photoCheckbox, 'Original photos');
    this.photoCheckbox.addEventListener('change', () => {
      this.showPhotos = this.photoCheckbox.checked;
      this.drawFaces();
    });

    this.wholeCheckbox = el(doc, 'input', { type: 'checkbox' });
    this.wholeToggle = el(doc, 'label', { hidden: '' }, this.wholeCheckbox, 'Whole photo');
    this.wholeCheckbox.addEventListener('change', () => {
      this.wholePhoto = this.wholeCheckbox.checked;
      this.drawFaces();
    });

    this.status = el(doc, 'span', { class: 'xssab-note', role: 'status' });
    const controls = el(doc, 'div', { class: 'xssab-controls', role: 'group', 'aria-label': 'Viewer controls' },
      el(doc, 'label', {}, 'Map', this.kindSelect),
      el(doc, 'label', {}, 'Opacity', this.opacityInput, this.opacityText),
      el(doc, 'label', {}, 'Contrast', this.contrastInput, this.contrastText),
      el(doc, 'label', {}, 'Smoothing', this.smoothingInput, this.smoothingText),
      this.photoToggle,
      this.wholeToggle,
    );
    if (host) {
      this.thresholdNumber = el(doc, 'input', { type: 'number', min: '-1', max: '1', step: '0.001', 'aria-label': 'Decision threshold' });
      this.thresholdSlider = el(doc, 'input', { type: 'range', min: '-1', max: '1', step: '0.001', 'aria-label': 'Decision threshold slider' });
      for (const [from, to] of [[this.thresholdNumber, this.thresholdSlider], [this.thresholdSlider, this.thresholdNumber]]) {
        from.addEventListener('input', () => {
          to.value = from.value;
          this.scheduleThreshold(from.value);
        });
      }
      const exportResult = el(doc, 'button', { type: 'button' }, 'Export result (JSON)');
      exportResult.addEventListener('click', () => this.post({ type: 'exportResult' }));
      const exportMaps = el(doc, 'button', { type: 'button', title: 'The six raw maps: float32, shape (2, 3, H, W), images a, b × similarity, dissimilarity, combined' }, 'Export maps (NPY)');
      exportMaps.addEventListener('click', () => this.post({ type: 'exportMaps' }));
      controls.append(el(doc, 'span', { class: 'xssab-threshold', role: 'group', 'aria-label': 'Threshold' }, 'Threshold', this.thresholdNumber, this.thresholdSlider), exportResult, exportMaps);
    }
    controls.append(this.status);

    this.faces = { a: this.buildFace('a', `${id}-a`), b: this.buildFace('b', `${id}-b`) };
    this.header = el(doc, 'header', { class: 'xssab-header' });
    this.decompositionHeadingId = `${id}-decomposition`;
    this.decomposition = el(doc, 'section', { class: 'xssab-decomposition', 'aria-labelledby': this.decompositionHeadingId });
    this.regions = el(doc, 'section', { class: 'xssab-regions', 'aria-labelledby': `${id}-regions` });
    this.check = el(doc, 'section', { class: 'xssab-trust', 'aria-labelledby': `${id}-check` });
    this.checkStatus = el(doc, 'span', { class: 'xssab-note', role: 'status' });
    const checkMap = options.checkMap ?? (host ? async () => this.post({ type: 'checkMap' }) : undefined);
    if (checkMap) {
      const button = el(doc, 'button', { type: 'button', title: 'Rescore each face with 5–50 % of it blurred in the map’s order and in a random order' }, 'Check this map');
      button.addEventListener('click', () => {
        button.disabled = true;
        // The panel's host reports its own progress.
        if (options.checkMap) this.checkStatus.textContent = 'Checking the map…';
        checkMap().then(
          () => undefined,
          (e: unknown) => {
            button.disabled = false;
            this.checkStatus.textContent = `The check failed: ${e instanceof Error ? e.message : String(e)}`;
          },
        );
      });
      this.checkButton = button;
    }
    this.container = el(doc, 'div', { class: 'xssab-viewer', 'data-xssab-id': id },
      this.header,
      controls,
      el(doc, 'div', { class: 'xssab-faces' }, this.faces.a.figure, this.faces.b.figure),
      this.regions,
      this.check,
      this.decomposition,
    );
    this.update(payload, options.photos); // throws on a broken payload before `root` is touched
    root.replaceChildren(this.container);
  }

  update(payload: ExplanationPayload, photos?: Photos): void {
    if (this.disposed) return;
    const maps = { a: decodeFaceMaps(payload.maps.a), b: decodeFaceMaps(payload.maps.b) };
    this.payload = payload;
    this.maps = maps;
    this.photos = photos;
    this.shown = this.displayed();
    this.labels = { a: faceRegionLabels(payload.a, maps.a.width, maps.a.height), b: faceRegionLabels(payload.b, maps.b.width, maps.b.height) };
    const canShowPhotos = !!photos && SIDES.every((s) => photoTransform(payload[s]));
    this.photoToggle.hidden = !canShowPhotos;
    if (!canShowPhotos) this.photoCheckbox.checked = this.showPhotos = false;
    if (this.thresholdNumber && this.thresholdSlider && this.thresholdTimer === undefined) {
      this.thresholdNumber.value = this.thresholdSlider.value = String(payload.threshold);
      this.status.textContent = '';
    }
    // Only a new explanation sets the face lists: a redraw leaves a choice waiting for its answer.
    for (const side of SIDES) {
      const choice = this.faces[side].faceChoice;
      if (choice) this.showFaceChoice(side, choice, payload[side]);
    }
    this.renderHeader();
    this.renderRegions();
    this.renderCheck();
    this.renderDecomposition();
    this.drawFaces();
  }

  /** The region chart, when the explanation has the faces' region sums (results before them have none). */
  private renderRegions(): void {
    const [a, b] = [this.payload.a.regions, this.payload.b.regions];
    this.regions.hidden = !(a && b);
    this.highlighted = null;
    if (!a || !b) return this.regions.replaceChildren();
    const heading = el(this.doc, 'h3', { id: this.regions.getAttribute('aria-labelledby')! }, 'Face regions');
    this.regions.replaceChildren(heading, regionChart(this.doc, a, b, (region) => this.highlight(region)));
  }

  /** The trust check: its chart when the explanation has one, else (in the panel) the button that asks for it. */
  private renderCheck(): void {
    const { check } = this.payload;
    this.check.hidden = !check && !this.checkButton;
    const heading = el(this.doc, 'h3', { id: this.check.getAttribute('aria-labelledby')! }, 'Trust check');
    if (this.checkButton) this.checkButton.disabled = false;
    this.checkStatus.textContent = '';
    this.check.replaceChildren(heading, ...(check ? [checkChart(this.doc, check)] : this.checkButton ? [this.checkButton, this.checkStatus] : []));
  }

  /** Outlines one face region on both faces (null: none). */
  private highlight(region: number | null): void {
    this.highlighted = region;
    for (const side of SIDES) {
      const { outline } = this.faces[side];
      const ctx = this.context(outline);
      if (!ctx) continue;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, outline.width, outline.height);
      if (region === null) continue;
      const { width, height } = this.maps[side];
      const mask = el(this.doc, 'canvas', { width: String(width), height: String(height) });
      const maskCtx = this.context(mask);
      if (!maskCtx) continue;
      const image = maskCtx.createImageData(width, height);
      image.data.set(regionOutline(this.labels[side], region, width, height, OUTLINE_COLOUR));
      maskCtx.putImageData(image, 0, 0);
      const transform = this.showPhotos ? photoTransform(this.payload[side]) : undefined;
      if (transform) ctx.setTransform(...cropToPhotoCanvasMatrix(transform));
      ctx.drawImage(mask, 0, 0);
    }
  }

  private displayed(): Record<Side, ReturnType<typeof displayedMaps>> {
    const shown = (side: Side) => displayedMaps(this.maps[side], this.payload.ranges[side], this.payload.rangePercentile, this.display);
    return { a: shown('a'), b: shown('b') };
  }

  /** Redraws the faces after a contrast or smoothing change. */
  private refreshDisplay(): void {
    this.shown = this.displayed();
    this.drawFaces();
  }

  private context(canvas: HTMLCanvasElement): CanvasRenderingContext2D | null {
    return this.options.context ? this.options.context(canvas) : canvas.getContext('2d');
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.thresholdTimer);
    this.container.remove();
  }

  private post(message: PanelMessage): void {
    if (!this.disposed) this.host?.post(message);
  }

  private buildFace(side: Side, id: string): FaceView {
    const doc = this.doc;
    const label = side.toUpperCase();
    const readout = el(doc, 'output', { class: 'xssab-readout', id: `${id}-readout`, 'aria-live': 'polite' });
    const canvas = el(doc, 'canvas', {
      class: 'xssab-map',
      tabindex: '0',
      role: 'application',
      'aria-roledescription': 'face map',
      'aria-label': `Face ${label}: arrow keys move the cursor, the values show below`,
      'aria-describedby': readout.id,
    });
    const face: FaceView = {
      figure: el(doc, 'figure', { class: 'xssab-face', 'data-side': side }),
      caption: el(doc, 'figcaption'),
      stage: el(doc, 'div', { class: 'xssab-stage' }),
      image: el(doc, 'img', { alt: '' }),
      canvas,
      outline: el(doc, 'canvas', { class: 'xssab-outline', 'aria-hidden': 'true' }),
      cursor: el(doc, 'div', { class: 'xssab-cursor', 'aria-hidden': 'true', hidden: '' }),
      legend: el(doc, 'div', { class: 'xssab-legend' }),
      legendLow: el(doc, 'span', { class: 'xssab-legend-low' }),
      legendBar: el(doc, 'span', { class: 'xssab-legend-bar', 'aria-hidden': 'true' }),
      legendHigh: el(doc, 'span', { class: 'xssab-legend-high' }),
      legendNote: el(doc, 'small', { class: 'xssab-legend-note' }),
      readout,
    };
    face.stage.append(face.image, canvas, face.outline, face.cursor);
    face.legend.append(face.legendLow, face.legendBar, face.legendHigh);
    face.figure.append(face.caption);
    if (this.host && this.options.chooseFace) {
      const select = el(doc, 'select', { 'aria-label': `Face explained in image ${label}` });
      select.addEventListener('change', () => this.post({ type: 'chooseFace', side, face: Number(select.value) }));
      const thumbs = el(doc, 'div', { class: 'xssab-face-thumbs', role: 'group', 'aria-label': `Faces found in image ${label}`, hidden: '' });
      face.faceChoice = { label: el(doc, 'label', { class: 'xssab-face-choice', hidden: '' }, 'Face', select), select, thumbs };
      face.figure.append(face.faceChoice.label, thumbs);
    }
    face.figure.append(face.stage, face.legend, face.legendNote, readout);
    if (this.host) {
      face.exportButton = el(doc, 'button', { type: 'button' }, `Export map ${label} (PNG)`);
      face.exportButton.addEventListener('click', () => void this.exportMap(side));
      face.figure.append(face.exportButton);
    }

    canvas.addEventListener('mousemove', (e) => {
      const p = clientToPixel(canvas.getBoundingClientRect(), e.clientX, e.clientY, canvas.width, canvas.height);
      this.setCursor(p && this.toCrop(side, p));
    });
    canvas.addEventListener('mouseleave', () => this.setCursor(null));
    canvas.addEventListener('blur', () => this.setCursor(null));
    canvas.addEventListener('keydown', (e) => this.onKey(e));
    return face;
  }

  private onKey(e: KeyboardEvent): void {
    const steps: Record<string, Point> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const { width, height } = this.maps.a; // both crops have the model's input size
    if (e.key === 'Escape') {
      this.setCursor(null);
      return;
    }
    const step = steps[e.key];
    if (!step) return;
    e.preventDefault();
    const size = e.shiftKey ? 8 : 1;
    const [x, y] = this.cursor ?? [Math.floor(width / 2), Math.floor(height / 2)];
    const clamp = (v: number, n: number) => Math.min(Math.max(v, 0), n - 1);
    this.setCursor(this.cursor ? [clamp(x + step[0] * size, width), clamp(y + step[1] * size, height)] : [x, y]);
  }

  /** A pixel of what a face shows (crop or photo) → crop pixel. */
  private toCrop(side: Side, p: Point): Point {
    const transform = this.showPhotos ? photoTransform(this.payload[side]) : undefined;
    if (!transform) return p;
    const [u, v] = applyAffine(transform, p);
    return [Math.round(u), Math.round(v)];
  }

  private setCursor(p: Point | null): void {
    this.cursor = p;
    for (const side of SIDES) {
      const face = this.faces[side];
      if (!p) {
        face.cursor.hidden = true;
        face.readout.textContent = '';
        continue;
      }
      face.readout.textContent = `${side.toUpperCase()} ${readoutText(p[0], p[1], valuesAt(this.maps[side], p[0], p[1]), this.shown[side].ranges)}`;
      const [vx, vy, vw, vh] = this.photoView(side);
      const transform = this.showPhotos ? photoTransform(this.payload[side]) : undefined;
      const [x, y] = transform ? applyAffine(invertAffine(transform), p) : p;
      face.cursor.hidden = x + 0.5 < vx || y + 0.5 < vy || x + 0.5 > vx + vw || y + 0.5 > vy + vh;
      face.cursor.style.left = `${((x + 0.5 - vx) / vw) * 100}%`;
      face.cursor.style.top = `${((y + 0.5 - vy) / vh) * 100}%`;
    }
  }

  /** Width and height of what a face shows: the photo or the aligned crop. */
  private shownSize(side: Side): Point {
    const info = this.payload[side];
    return this.showPhotos ? [info.width, info.height] : [this.maps[side].width, this.maps[side].height];
  }

  private renderHeader(): void {
    const doc = this.doc;
    const p = this.payload;
    const fact = (term: string, ...value: Child[]) => [el(doc, 'dt', {}, term), el(doc, 'dd', {}, ...value)];
    const decision = el(doc, 'span', { class: `xssab-decision ${p.decision === 'match' ? 'xssab-match' : 'xssab-nomatch'}` }, decisionText(p));
    const facts = el(doc, 'dl', { class: 'xssab-facts' },
      ...fact('Score (cosine)', formatScore(p.score)),
      ...fact('Threshold', `${formatScore(p.threshold)} (${p.thresholdSource})`),
      ...fact('Decision', decision),
      ...fact('Model', p.model.name),
      ...fact('Execution provider', p.ep),
      ...(p.gradients ? fact('Gradients', p.gradients) : []),
      ...fact('Time', formatDuration(p.timings.totalMs)),
    );
    const title = el(doc, 'h2', {}, `${displayName(p.a.path)} ↔ ${displayName(p.b.path)}`);
    this.header.replaceChildren(title, facts);
    if (p.warnings.length) this.header.append(el(doc, 'ul', { class: 'xssab-warnings', 'aria-label': 'Warnings' }, ...p.warnings.map((w) => el(doc, 'li', {}, w))));
  }

  private drawFaces(): void {
    const kind = this.kind === 'none' ? undefined : this.kind;
    for (const side of SIDES) {
      const face = this.faces[side];
      const info = this.payload[side];
      const [w, h] = this.shownSize(side);
      face.caption.textContent = face.caption.title = `${side.toUpperCase()}: ${displayName(info.path)}`;
      const src = this.showPhotos && this.photos ? this.photos[side] : this.payload.images[side];
      if (face.image.getAttribute('src') !== src) face.image.src = src; // no reload (flicker) on a map change
      face.image.alt = `Face ${side.toUpperCase()}, ${this.showPhotos ? 'original photo' : 'aligned crop'}`;
      face.stage.classList.toggle('xssab-pixelated', !this.showPhotos);
      // Zoomed: the photo and its canvases are larger than the stage, which shows the view.
      const [vx, vy, vw, vh] = this.photoView(side);
      face.stage.style.aspectRatio = `${vw} / ${vh}`;
      for (const layer of [face.image, face.canvas, face.outline]) {
        Object.assign(layer.style, { left: `${(-vx / vw) * 100}%`, top: `${(-vy / vh) * 100}%`, width: `${(w / vw) * 100}%`, height: `${(h / vh) * 100}%` });
      }
      face.canvas.width = face.outline.width = w;
      face.canvas.height = face.outline.height = h;
      face.legend.hidden = face.legendNote.hidden = !kind;
      if (face.exportButton) face.exportButton.disabled = !kind;
      if (kind) {
        const [lo, hi] = this.shown[side].ranges[kind];
        face.legendNote.textContent = legendNote(kind, this.display.percentile, this.display.smoothing);
        face.legendLow.textContent = formatMapValue(lo);
        face.legendHigh.textContent = formatMapValue(hi);
        face.legendBar.style.backgroundImage = `linear-gradient(to right, ${legendStops(kind).join(', ')})`;
        face.legend.setAttribute('aria-label', `${kind} map of ${side.toUpperCase()}: ${formatMapValue(lo)} to ${formatMapValue(hi)}`);
        this.paintMap(side, kind, face.canvas);
      }
    }
    this.wholeToggle.hidden = !this.showPhotos || !SIDES.some((side) => this.payload[side].faces?.length);
    const percent = this.display.percentile;
    this.contrastText.textContent = percent >= 100 ? 'maximum' : `${percent}th pct`;
    this.smoothingText.textContent = this.display.smoothing > 0 ? `σ ${this.display.smoothing} px, display only` : 'off';
    this.applyOpacity();
    this.setCursor(this.cursor);
    this.highlight(this.highlighted);
  }

  /** Lists the photo's detected faces, largest first, with the explained one selected. */
  private showFaceChoice(side: Side, { label, select, thumbs }: NonNullable<FaceView['faceChoice']>, info: ImageInfo): void {
    const count = info.faces?.length ?? 0;
    label.hidden = count < 2;
    if (select.options.length !== count) {
      select.replaceChildren(...Array.from({ length: count }, (_, i) => el(this.doc, 'option', { value: String(i) }, `${i + 1} of ${count}${i === 0 ? ' (largest)' : ''}`)));
    }
    select.value = String(info.faceIndex ?? 0);
    // A thumbnail of each face, cut from the photo by CSS (no canvas needed); a click explains it.
    const photo = this.photos?.[side];
    thumbs.hidden = count < 2 || !photo;
    if (thumbs.hidden) return thumbs.replaceChildren();
    thumbs.replaceChildren(...info.faces!.map((face, i) => {
      const image = el(this.doc, 'span', { class: 'xssab-face-thumb', 'aria-hidden': 'true' });
      Object.assign(image.style, { backgroundImage: `url("${photo}")`, ...thumbnailStyle(face.box, info.width, info.height, FACE_THUMB_PX) });
      const chosen = i === (info.faceIndex ?? 0);
      const button = el(this.doc, 'button', { type: 'button', class: 'xssab-face-thumb-button', 'aria-pressed': String(chosen), title: `Explain face ${i + 1} of ${count}` }, image, el(this.doc, 'span', {}, String(i + 1)));
      button.addEventListener('click', () => {
        if (!chosen) this.post({ type: 'chooseFace', side, face: i });
      });
      return button;
    }));
  }

  /** The part of the photo a face shows: the explained face with a margin, unless the whole photo is asked for. */
  private photoView(side: Side): View {
    const info = this.payload[side];
    const box = info.faces?.[info.faceIndex ?? 0]?.box;
    return this.showPhotos && !this.wholePhoto && box ? zoomView(box, info.width, info.height) : [0, 0, ...this.shownSize(side)];
  }

  /** Draws a face's map onto its canvas: directly on the crop, or through the inverse alignment on the photo. */
  private paintMap(side: Side, kind: MapKind, canvas: HTMLCanvasElement): void {
    const ctx = this.context(canvas);
    if (!ctx) return; // no canvas support (e.g. JSDOM): the read-outs still work
    const crop = this.mapCanvas(side, kind);
    if (!crop) return;
    const info = this.payload[side];
    const transform = this.showPhotos ? photoTransform(info) : undefined;
    if (transform) ctx.setTransform(...cropToPhotoCanvasMatrix(transform));
    ctx.drawImage(crop, 0, 0);
    // On a photo with several faces, a frame marks the one explained.
    const box = transform && (info.faces?.length ?? 0) > 1 ? info.faces?.[info.faceIndex ?? 0]?.box : undefined;
    if (box) {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.lineWidth = Math.max(2, Math.max(info.width, info.height) / 300);
      ctx.strokeStyle = '#1e90ff';
      ctx.strokeRect(...box);
    }
  }

  /** The map at crop resolution on a canvas of its own: as shown, or (`recorded`) raw on the explanation's own range. */
  private mapCanvas(side: Side, kind: MapKind, recorded = false): HTMLCanvasElement | null {
    const { width, height } = this.maps[side];
    const { values, ranges } = recorded ? { values: this.maps[side].values, ranges: this.payload.ranges[side] } : this.shown[side];
    const canvas = el(this.doc, 'canvas', { width: String(width), height: String(height) });
    const ctx = this.context(canvas);
    if (!ctx) return null;
    const image = ctx.createImageData(width, height);
    image.data.set(mapRgba(values[kind], kind, ranges[kind]));
    ctx.putImageData(image, 0, 0);
    return canvas;
  }

  private applyOpacity(): void {
    const percent = `${Math.round(this.opacity * 100)}%`;
    this.opacityText.textContent = percent;
    this.opacityInput.setAttribute('aria-valuetext', percent);
    for (const side of SIDES) this.faces[side].canvas.style.opacity = this.kind === 'none' ? '0' : String(this.opacity);
  }

  private scheduleThreshold(text: string): void {
    clearTimeout(this.thresholdTimer);
    const threshold = Number(text);
    const valid = text.trim() !== '' && Number.isFinite(threshold) && threshold >= -1 && threshold <= 1;
    this.thresholdNumber?.setAttribute('aria-invalid', String(!valid));
    if (!valid) {
      this.thresholdTimer = undefined;
      this.status.textContent = 'The threshold must be a number from −1 to 1.';
      return;
    }
    this.status.textContent = '';
    // The host reports progress while it re-runs; back at the shown threshold there is nothing to run.
    this.thresholdTimer = setTimeout(() => {
      this.thresholdTimer = undefined;
      if (threshold !== this.payload.threshold) this.post({ type: 'setThreshold', threshold });
    }, this.options.thresholdDebounceMs ?? THRESHOLD_DEBOUNCE_MS);
  }

  /** Posts the current map of one face over its aligned crop, at the current opacity, as a PNG. */
  private async exportMap(side: Side): Promise<void> {
    if (this.kind === 'none') return;
    const kind = this.kind;
    const { width, height } = this.maps[side];
    // Enlarged to about 256 px so the legend under the face can be read; pixels stay square.
    const scale = Math.max(1, Math.round(256 / width));
    const [w, h, band] = [width * scale, height * scale, 40];
    const canvas = el(this.doc, 'canvas', { width: String(w), height: String(h + band) });
    const ctx = this.context(canvas);
    const map = this.mapCanvas(side, kind, true);
    if (!ctx || !map) {
      this.status.textContent = 'Exporting a map needs canvas support, which is not available here.';
      return;
    }
    try {
      const crop = el(this.doc, 'img');
      crop.src = this.payload.images[side];
      await crop.decode();
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(crop, 0, 0, w, h);
      ctx.globalAlpha = this.opacity;
      ctx.drawImage(map, 0, 0, w, h);
      ctx.globalAlpha = 1;
      // The legend: the map's colour scale over the raw range it was drawn on, as the panel shows it.
      const [lo, hi] = this.payload.ranges[side][kind];
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, h, w, band);
      const gradient = ctx.createLinearGradient(8, 0, w - 8, 0);
      legendStops(kind).forEach((colour, k, all) => gradient.addColorStop(k / (all.length - 1), colour));
      ctx.fillStyle = gradient;
      ctx.fillRect(8, h + 6, w - 16, 12);
      ctx.fillStyle = '#000000';
      ctx.font = '11px sans-serif';
      ctx.textBaseline = 'top';
      ctx.textAlign = 'left';
      ctx.fillText(formatMapValue(lo), 8, h + 22);
      ctx.textAlign = 'center';
      ctx.fillText(kind, w / 2, h + 22);
      ctx.textAlign = 'right';
      ctx.fillText(formatMapValue(hi), w - 8, h + 22);
      this.post({ type: 'exportMap', side, kind, png: canvas.toDataURL('image/png') });
    } catch (e) {
      this.status.textContent = `Could not export the map: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  private renderDecomposition(): void {
    const doc = this.doc;
    const { split, arguments: args } = this.payload;
    const summary = el(doc, 'p', {},
      `Supporting (aₙ ≥ β): ${split.supporting.count} dimensions, sum ${formatSigned(split.supporting.sum)}. `,
      `Opposing (aₙ < β): ${split.opposing.count} dimensions, sum ${formatSigned(split.opposing.sum)}. `,
      `β = t / d = ${split.beta.toPrecision(3)}; the sums add up to the score ${formatScore(this.payload.score)}.`,
    );
    this.decomposition.replaceChildren(el(doc, 'h3', { id: this.decompositionHeadingId }, 'Score decomposition'), summary, argumentChart(doc, topArguments(args, split.beta, CHART_ARGUMENTS)));
  }
}

/**
 * Builds the interactive viewer of one explanation into `root` (replacing its content). With no
 * host (a static notebook output) the threshold control and the export buttons are left out.
 */
export function renderExplanation(root: HTMLElement, payload: ExplanationPayload, host: ViewerHost | null | undefined, options: ViewerOptions = {}): ViewerHandle {
  return new Viewer(root, payload, host, options);
}
