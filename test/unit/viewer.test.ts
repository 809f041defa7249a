import { strict as assert } from 'assert';
import type { JSDOM } from 'jsdom';
import { colourOf, mapRanges, overlay, overlayWeight } from '../../src/shared/colour';
import { encodeMap } from '../../src/shared/mapCodec';
import type { DetectedFace, ExplanationPayload } from '../../src/shared/result';
import { type PanelMessage, parsePanelMessage, type ViewPreferences } from '../../src/shared/protocol';
import { displayName, formatMapValue, formatShare, legendNote, readoutText } from '../../src/renderer/format';
import { renderExplanation, type ViewerHandle, type ViewerOptions } from '../../src/renderer/viewer';
import { clientToPixel, cropToPhotoCanvasMatrix, decodeFaceMaps, displayedMaps, faceRegionLabels, mapRgba, regionOutline, thumbnailStyle, topArguments, valuesAt, zoomView } from '../../src/renderer/viewerModel';
import { REGION_NAMES, regionSums } from '../../src/shared/regions';
import { gaussianBlur } from '../../src/shared/blur';
import { encoded, goldenMaps, goldenPayload, jsdom, PHOTO, PNG, SIZE } from './explanationFixture';

interface Fixture {
  document: Document;
  window: JSDOM['window'];
  root: HTMLElement;
  posted: PanelMessage[];
  viewer: ViewerHandle;
  errors: Error[];
}

function mount(options: { host?: boolean; photos?: boolean; debounceMs?: number; view?: ViewPreferences; chooseFace?: boolean; payload?: ExplanationPayload; context?: ViewerOptions['context'] } = {}): Fixture {
  const { dom, errors } = jsdom();
  const document = dom.window.document;
  const root = document.body.appendChild(document.createElement('div'));
  const posted: PanelMessage[] = [];
  const host = options.host === false ? null : { post: (m: PanelMessage) => posted.push(m) };
  const viewer = renderExplanation(root, options.payload ?? goldenPayload(), host, {
    photos: options.photos ? { a: PHOTO, b: PHOTO } : undefined,
    thresholdDebounceMs: options.debounceMs,
    view: options.view,
    chooseFace: options.chooseFace,
    context: options.context,
  });
  return { document, window: dom.window, root, posted, viewer, errors };
}

const faceOf = (f: Fixture, side: 'a' | 'b') => f.root.querySelector<HTMLElement>(`.xssab-face[data-side="${side}"]`)!;
const canvasOf = (f: Fixture, side: 'a' | 'b') => faceOf(f, side).querySelector('canvas')!;
const text = (node: Element | null) => node?.textContent ?? '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Puts a face canvas on screen at (left, top), `scale` CSS pixels per image pixel. */
function placeCanvas(f: Fixture, side: 'a' | 'b', left: number, top: number, scale: number): void {
  const canvas = canvasOf(f, side);
  canvas.getBoundingClientRect = () => ({ left, top, width: canvas.width * scale, height: canvas.height * scale, right: 0, bottom: 0, x: left, y: top, toJSON: () => ({}) });
}

function hover(f: Fixture, side: 'a' | 'b', clientX: number, clientY: number): void {
  canvasOf(f, side).dispatchEvent(new f.window.MouseEvent('mousemove', { clientX, clientY, bubbles: true }));
}

function selectKind(f: Fixture, kind: string): void {
  const select = f.root.querySelector('select')!;
  select.value = kind;
  select.dispatchEvent(new f.window.Event('change'));
}


/**
 * A 2-D context that records what is drawn, for JSDOM (which has no canvas): each canvas's
 * put pixels, and which canvases were drawn onto it.
 */
function recordingContexts() {
  const contexts = new Map<HTMLCanvasElement, { pixels?: Uint8ClampedArray; drawn: HTMLCanvasElement[] }>();
  const context = (canvas: HTMLCanvasElement) => {
    const record = contexts.get(canvas) ?? { drawn: [] };
    contexts.set(canvas, record);
    return {
      createImageData: (w: number, h: number) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
      putImageData: (image: ImageData) => (record.pixels = Uint8ClampedArray.from(image.data)),
      drawImage: (source: HTMLCanvasElement) => record.drawn.push(source),
      setTransform: () => undefined,
      strokeRect: () => undefined,
      clearRect: () => (record.pixels = undefined),
    } as unknown as CanvasRenderingContext2D;
  };
  /** The RGBA pixels of the map last drawn onto a face's canvas. */
  const drawnMap = (canvas: HTMLCanvasElement) => {
    const drawn = contexts.get(canvas)!.drawn;
    return contexts.get(drawn[drawn.length - 1])!.pixels!;
  };
  return { context, drawnMap, contexts };
}

describe('viewer: pure logic', () => {
  it('decodeFaceMaps refuses maps of different sizes', () => {
    const maps = encoded(goldenMaps(1));
    maps.similarity = encodeMap(new Float32Array(4), [2, 2]);
    assert.throws(() => decodeFaceMaps(maps), /the similarity map is 2×2, the combined map 8×8/);
  });

  it('valuesAt returns the three maps at a pixel, row-major, and null outside', () => {
    const maps = decodeFaceMaps(encoded(goldenMaps(1)));
    const golden = goldenMaps(1);
    const at = valuesAt(maps, 5, 3)!;
    assert.equal(at.similarity, golden.similarity[3 * SIZE + 5]);
    assert.equal(at.dissimilarity, golden.dissimilarity[29]);
    assert.equal(at.combined, golden.combined[29]);
    assert.equal(at.similarity, Math.fround(0.03));
    assert.equal(valuesAt(maps, 8, 0), null);
    assert.equal(valuesAt(maps, -1, 0), null);
    assert.equal(valuesAt(maps, 1.5, 0), null);
  });

  it('topArguments splits at β and orders by strength', () => {
    const top = topArguments([0.2, -0.05, 0.1, 0.001, -0.2, 0.3, 0.0, -0.01], 0.0375, 2);
    assert.deepEqual(top.supporting, [{ dim: 5, value: 0.3 }, { dim: 0, value: 0.2 }]);
    assert.deepEqual(top.opposing, [{ dim: 4, value: -0.2 }, { dim: 1, value: -0.05 }]);
    const all = topArguments([0.1, 0.1, 0.02], 0.05, 10);
    assert.deepEqual(all.supporting.map((a) => a.dim), [0, 1]);
    assert.deepEqual(all.opposing, [{ dim: 2, value: 0.02 }]);
  });

  it('formats values and names', () => {
    assert.equal(formatMapValue(-0.0635), '-6.35e-2');
    assert.equal(formatMapValue(NaN), 'n/a');
    assert.equal(displayName('/photos/alice.png'), 'alice.png');
    assert.equal(displayName('C:\\photos\\bob.jpg'), 'bob.jpg');
    assert.equal(displayName('data:image/png;base64,AAAA'), 'image (data URI)');
    assert.equal(readoutText(1, 2, null), '(1, 2): outside the map');
  });

  it('writes map values as a share of their range from the neutral end, and what a legend range is', () => {
    assert.equal(formatShare('similarity', 0.03, [0, 0.06]), '50 %');
    assert.equal(formatShare('similarity', 0.09, [0, 0.06]), '150 %'); // beyond the range: drawn saturated
    assert.equal(formatShare('combined', -0.01, [-0.04, 0.04]), '-25 %');
    assert.equal(formatShare('combined', 0.04, [-0.04, 0.04]), '+100 %');
    assert.equal(formatShare('combined', 0, [0, 0]), 'n/a');
    assert.equal(readoutText(1, 2, { similarity: 0.03, dissimilarity: 0, combined: 0.03 }, { similarity: [0, 0.06], dissimilarity: [0, 0.06], combined: [-0.06, 0.06] }), '(1, 2): similarity 50 % (3.00e-2), dissimilarity 0 % (0.00e+0), combined +50 % (3.00e-2)');
    assert.equal(legendNote('combined', 100, 0), 'range: the maximum');
    assert.equal(legendNote('dissimilarity', 99, 1.5), 'shared by similarity and dissimilarity · clipped at the 99th percentile · smoothed for display (σ 1.5 px)');
    const maps = decodeFaceMaps(encoded(goldenMaps(1)));
    const recorded = goldenPayload().ranges.a;
    assert.equal(displayedMaps(maps, recorded, 99, { percentile: 99, smoothing: 0 }).ranges, recorded);
    assert.deepEqual(displayedMaps(maps, recorded, undefined, { percentile: 99, smoothing: 0 }).ranges, mapRanges(goldenMaps(1), 99)); // an older result: ranges at the maximum
  });

  it('clientToPixel maps a client position through the element box', () => {
    const rect = { left: 10, top: 20, width: 160, height: 80 };
    assert.deepEqual(clientToPixel(rect, 10, 20, 8, 8), [0, 0]);
    assert.deepEqual(clientToPixel(rect, 10 + 5 * 20 + 19.9, 20 + 3 * 10, 8, 8), [5, 3]);
    assert.equal(clientToPixel(rect, 170, 30, 8, 8), null);
    assert.equal(clientToPixel({ left: 0, top: 0, width: 0, height: 0 }, 0, 0, 8, 8), null);
  });

  it('mapRgba over an image at opacity o equals colour.ts overlay at o (±1 for the alpha byte)', () => {
    const values = Float32Array.from([-0.0635, -0.02, 0, 0.01, 0.0635, NaN]);
    const range: [number, number] = [-0.0635, 0.0635];
    const image = Uint8Array.from({ length: values.length * 3 }, (_, i) => (i * 37) % 256);
    for (const opacity of [0.3, 1]) {
      const expected = overlay(values, 'combined', range, opacity, image);
      const rgba = mapRgba(values, 'combined', range);
      for (let p = 0; p < values.length; p++) {
        const alpha = (rgba[p * 4 + 3] / 255) * opacity;
        for (let k = 0; k < 3; k++) {
          const blended = rgba[p * 4 + k] * alpha + image[p * 3 + k] * (1 - alpha);
          assert.ok(Math.abs(blended - expected[p * 3 + k]) <= 1, `pixel ${p} channel ${k}: ${blended} vs ${expected[p * 3 + k]}`);
        }
      }
    }
    const rgba = mapRgba(values, 'combined', range);
    assert.equal(rgba[2 * 4 + 3], 0, 'the centre of the combined scale is transparent');
    assert.equal(rgba[5 * 4 + 3], 0, 'NaN (outside the explained region) is transparent');
    assert.equal(rgba[4 * 4 + 3], 255);
  });

  it('cropToPhotoCanvasMatrix takes crop pixel centres to the photo pixels they came from', () => {
    const transform: [number, number, number, number, number, number] = [0.45, 0.12, -31, -0.12, 0.45, 7];
    const [a, b, c, d, e, f] = cropToPhotoCanvasMatrix(transform);
    for (const [x, y] of [[40, 60], [0, 0], [123.5, 7]]) {
      const u = transform[0] * x + transform[1] * y + transform[2];
      const v = transform[3] * x + transform[4] * y + transform[5];
      // Canvas coordinates of a pixel centre are index + 0.5.
      const X = a * (u + 0.5) + c * (v + 0.5) + e;
      const Y = b * (u + 0.5) + d * (v + 0.5) + f;
      assert.ok(Math.abs(X - (x + 0.5)) < 1e-9 && Math.abs(Y - (y + 0.5)) < 1e-9, `(${x}, ${y}) → (${X}, ${Y})`);
    }
  });
});

describe('viewer: rendered into JSDOM', () => {
  let f: Fixture;
  afterEach(() => {
    f.viewer.dispose();
    assert.deepEqual(f.errors, []);
    // Whatever the viewer posts passes the host's validator unchanged (in the envelope the panel adds).
    for (const m of f.posted) assert.deepEqual(parsePanelMessage({ ...m, id: 'panel-1' }), { ...m, id: 'panel-1' });
  });

  it('says in the header when the gradients are straight-through (a quantized model)', () => {
    f = mount({ payload: { ...goldenPayload(), gradients: 'straight-through (quantized model)' } });
    assert.match(text(f.root.querySelector('header')), /Execution providercpuGradientsstraight-through \(quantized model\)Time/);
  });

  it('renders the header, two faces and legends with the payload ranges', () => {
    f = mount();
    const header = text(f.root.querySelector('header'));
    assert.match(header, /alice\.png ↔ bob\.jpg/);
    assert.match(header, /Score \(cosine\)0\.3420/);
    assert.match(header, /Threshold0\.3000 \(model card\)/);
    assert.match(header, /DecisionMatch \(\+0\.0420 above the threshold\)/);
    assert.match(header, /Modeltoy-net/);
    assert.match(header, /Execution providercpu/);
    assert.doesNotMatch(header, /Gradients/);
    assert.match(header, /Time1\.23 s/);
    assert.equal(f.root.querySelectorAll('.xssab-face').length, 2);
    assert.equal(f.root.querySelectorAll('.xssab-face img[src^="data:image/png"]').length, 2);
    const legend = (side: 'a' | 'b') => [text(faceOf(f, side).querySelector('.xssab-legend-low')), text(faceOf(f, side).querySelector('.xssab-legend-high'))];
    assert.deepEqual(legend('a'), ['-6.35e-2', '6.35e-2']);
    assert.deepEqual(legend('b'), ['-1.27e-1', '1.27e-1']);
    selectKind(f, 'similarity');
    assert.deepEqual(legend('a'), ['5.00e-4', '6.40e-2']);
    assert.deepEqual(legend('b'), ['1.00e-3', '1.28e-1']);
    selectKind(f, 'none');
    assert.ok(faceOf(f, 'a').querySelector<HTMLElement>('.xssab-legend')!.hidden);
    assert.equal(canvasOf(f, 'a').style.opacity, '0');
    assert.equal(f.document.head.querySelectorAll('style[data-xssab-viewer]').length, 1);
  });

  it('starts with the map and opacity of the user\'s settings, and keeps the user\'s choice on update', () => {
    f = mount({ view: { map: 'dissimilarity', opacity: 0.35 } });
    const select = f.root.querySelector('select')!;
    const opacity = f.root.querySelector<HTMLInputElement>('input[type="range"][aria-label="Map opacity"]')!;
    assert.equal(select.value, 'dissimilarity');
    assert.equal(opacity.value, '0.35');
    assert.equal(canvasOf(f, 'a').style.opacity, '0.35');
    selectKind(f, 'similarity');
    f.viewer.update(goldenPayload());
    assert.equal(f.root.querySelector('select')!.value, 'similarity');
  });

  it('draws each pixel in its scale colour at its clipped value, with its overlay weight as alpha (injected 2-D context)', () => {
    const { context, drawnMap } = recordingContexts();
    f = mount({ context });
    const golden = goldenMaps(1);
    const check = (kind: 'combined' | 'similarity', range: [number, number], values = golden[kind]) => {
      const pixels = drawnMap(canvasOf(f, 'a'));
      for (let p = 0; p < SIZE * SIZE; p++) {
        const clipped = Math.min(Math.max(values[p], range[0]), range[1]);
        assert.deepEqual(Array.from(pixels.subarray(p * 4, p * 4 + 3)), colourOf(kind, clipped, range), `${kind} pixel ${p}`);
        assert.equal(pixels[p * 4 + 3], Math.round(255 * overlayWeight(kind, clipped, range)));
      }
      return pixels;
    };
    check('combined', goldenPayload().ranges.a.combined);
    // Contrast at the 90th percentile: the largest values lie beyond the range and saturate.
    const contrast = f.root.querySelector<HTMLInputElement>('input[aria-label^="Contrast"]')!;
    contrast.value = '90';
    contrast.dispatchEvent(new f.window.Event('input'));
    const r90 = mapRanges(golden, 90);
    assert.ok(r90.combined[1] < 0.0635 - 1e-3);
    const pixels = check('combined', r90.combined);
    assert.deepEqual(Array.from(pixels.subarray(63 * 4, 63 * 4 + 4)), [...colourOf('combined', r90.combined[1], r90.combined), 255]); // C = 0.0635 > r: the scale's end
    assert.equal(text(faceOf(f, 'a').querySelector('.xssab-legend-high')), formatMapValue(r90.combined[1]));
    assert.equal(text(faceOf(f, 'a').querySelector('.xssab-legend-note')), 'clipped at the 90th percentile');
    selectKind(f, 'similarity');
    check('similarity', r90.similarity);
    assert.equal(text(faceOf(f, 'a').querySelector('.xssab-legend-note')), 'shared by similarity and dissimilarity · clipped at the 90th percentile');
    // Display smoothing: the drawn values are the blurred map, on the blurred map's range; the label says display only.
    const smoothing = f.root.querySelector<HTMLInputElement>('input[aria-label^="Smoothing"]')!;
    smoothing.value = '2';
    smoothing.dispatchEvent(new f.window.Event('input'));
    const blurred = { similarity: gaussianBlur(golden.similarity, SIZE, SIZE, 2), dissimilarity: gaussianBlur(golden.dissimilarity, SIZE, SIZE, 2), combined: gaussianBlur(golden.combined, SIZE, SIZE, 2) };
    check('similarity', mapRanges(blurred, 90).similarity, blurred.similarity);
    assert.match(text(faceOf(f, 'a').querySelector('.xssab-legend-note')), /smoothed for display \(σ 2 px\)$/);
    assert.match(text(f.root.querySelector('.xssab-controls')), /σ 2 px, display only/);
  });

  it('charts the face regions and outlines a hovered region on both faces', () => {
    const { context, contexts } = recordingContexts();
    const payload = goldenPayload();
    for (const [side, scale] of [['a', 1], ['b', 2]] as const) payload[side].regions = regionSums(goldenMaps(scale), faceRegionLabels(payload[side], SIZE, SIZE));
    f = mount({ context, payload });
    const rows = [...f.root.querySelectorAll('.xssab-region-row')];
    assert.equal(rows.length, REGION_NAMES.length);
    // Shares of each face's similarity and dissimilarity totals, in words for screen readers.
    const share = (side: 'a' | 'b', i: number, kind: 'similarity' | 'dissimilarity') => Math.round((100 * payload[side].regions![i][kind]) / payload[side].regions!.reduce((t, r) => t + r[kind], 0));
    const rest = REGION_NAMES.indexOf('rest');
    assert.equal(rows[rest].getAttribute('aria-label'), `rest: A supports ${share('a', rest, 'similarity')} %, opposes ${share('a', rest, 'dissimilarity')} %; B supports ${share('b', rest, 'similarity')} %, opposes ${share('b', rest, 'dissimilarity')} %`);
    const outline = (side: 'a' | 'b') => faceOf(f, side).querySelector<HTMLCanvasElement>('canvas.xssab-outline')!;
    rows[rest].dispatchEvent(new f.window.Event('mouseenter'));
    const labels = faceRegionLabels(payload.a, SIZE, SIZE);
    const expected = regionOutline(labels, rest, SIZE, SIZE, [0, 229, 255]);
    assert.ok(expected.some((v) => v > 0));
    for (const side of ['a', 'b'] as const) {
      const drawn = contexts.get(outline(side))!.drawn;
      assert.deepEqual(contexts.get(drawn[drawn.length - 1])!.pixels, expected);
    }
    rows[rest].dispatchEvent(new f.window.Event('mouseleave'));
    assert.equal(contexts.get(outline('a'))!.pixels, undefined); // cleared
    // An explanation without region sums (written before them) shows no chart.
    f.viewer.update(goldenPayload());
    assert.ok(f.root.querySelector<HTMLElement>('.xssab-regions')!.hidden);
  });

  it('the trust check: a button in the panel asks for it; a result with a check shows its curves and verdicts', () => {
    f = mount();
    const section = f.root.querySelector<HTMLElement>('.xssab-trust')!;
    const button = [...section.querySelectorAll('button')].find((b) => b.textContent === 'Check this map')!;
    button.click();
    assert.deepEqual(f.posted.map((m) => m.type), ['checkMap']);
    assert.equal(button.disabled, true, 'asked once while the host works');
    const levels = [0, 25, 50];
    const payload = { ...goldenPayload(), check: { levels, order: 'highest first' as const, blurSigma: 4, seed: 1, ms: 80, a: { map: [0.5, 0.3, 0.1], random: [0.5, 0.45, 0.4], area: 0.0875 }, b: { map: [0.5, 0.5, 0.45], random: [0.5, 0.45, 0.4], area: -0.025 } } };
    f.viewer.update(payload);
    const charts = [...section.querySelectorAll('svg')];
    assert.equal(charts.length, 2);
    assert.equal(charts[0].getAttribute('aria-label'), "A: score 0.500 → 0.100 with 50 % blurred in the map's order, → 0.400 in a random order; area between the curves +0.0875: the map beats a random order");
    assert.match(charts[1].getAttribute('aria-label')!, /area between the curves -0\.0250: the map does no better than a random order$/);
    // The map's curve through (level, score): x from 34 (0 %) to 194 (50 %), y over the scores' span 0.1…0.5.
    assert.equal(charts[0].querySelector('.xssab-check-map')!.getAttribute('points'), '34.0,6.0 114.0,49.0 194.0,92.0');
    assert.equal(section.querySelector('button'), null);
    // A static notebook output without a check shows no section.
    f.viewer.dispose();
    f = mount({ host: false });
    assert.ok(f.root.querySelector<HTMLElement>('.xssab-trust')!.hidden);
  });

  it('outlines a region by its pixels that touch another region or the border', () => {
    const labels = Uint8Array.from([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]); // 4×4, a 2×2 block of region 1
    const edge = regionOutline(labels, 1, 4, 4, [1, 2, 3]);
    assert.deepEqual([...Array(16).keys()].filter((p) => edge[p * 4 + 3] === 255), [5, 6, 9, 10]);
    const ring = regionOutline(labels, 0, 4, 4, [1, 2, 3]);
    assert.deepEqual([...Array(16).keys()].filter((p) => ring[p * 4 + 3] === 255), [0, 1, 2, 3, 4, 7, 8, 11, 12, 13, 14, 15]);
    assert.deepEqual(Array.from(edge.subarray(20, 24)), [1, 2, 3, 255]);
  });

  it('hovering a pixel shows the three map values there on both faces and moves the linked cursor', () => {
    f = mount();
    placeCanvas(f, 'a', 10, 20, 20);
    hover(f, 'a', 10 + 5 * 20 + 7, 20 + 3 * 20 + 7); // pixel (5, 3)
    const a = decodeFaceMaps(goldenPayload().maps.a);
    const b = decodeFaceMaps(goldenPayload().maps.b);
    const readout = (side: 'a' | 'b') => text(faceOf(f, side).querySelector('output.xssab-readout'));
    assert.equal(readout('a'), `A ${readoutText(5, 3, valuesAt(a, 5, 3), goldenPayload().ranges.a)}`);
    // Shares of the payload's ranges (a: [5e-4, 0.064] and ±0.0635), raw values beside them.
    assert.equal(readout('a'), 'A (5, 3): similarity 46 % (3.00e-2), dissimilarity 27 % (1.75e-2), combined +20 % (1.25e-2)');
    assert.equal(readout('b'), 'B (5, 3): similarity 46 % (6.00e-2), dissimilarity 27 % (3.50e-2), combined +20 % (2.50e-2)');
    assert.equal(b.values.similarity[3 * SIZE + 5], Math.fround(0.06));
    const cursor = (side: 'a' | 'b') => faceOf(f, side).querySelector<HTMLElement>('.xssab-cursor')!;
    for (const side of ['a', 'b'] as const) {
      assert.equal(cursor(side).hidden, false);
      assert.equal(cursor(side).style.left, '68.75%'); // centre of column 5 of 8
      assert.equal(cursor(side).style.top, '43.75%'); // centre of row 3 of 8
    }
    canvasOf(f, 'a').dispatchEvent(new f.window.MouseEvent('mouseleave'));
    assert.ok(cursor('b').hidden);
    assert.equal(readout('b'), '');
  });

  it('arrow keys on a focused face move the cursor and read out the values', () => {
    f = mount();
    const canvas = canvasOf(f, 'b');
    const key = (k: string, shiftKey = false) => canvas.dispatchEvent(new f.window.KeyboardEvent('keydown', { key: k, shiftKey, bubbles: true, cancelable: true }));
    key('ArrowRight'); // first press places the cursor at the centre
    key('ArrowRight');
    key('ArrowUp');
    const readout = text(faceOf(f, 'a').querySelector('output.xssab-readout'));
    assert.equal(readout, `A ${readoutText(5, 3, valuesAt(decodeFaceMaps(goldenPayload().maps.a), 5, 3), goldenPayload().ranges.a)}`);
    key('ArrowDown', true); // 8 pixels, clamped at the border
    assert.match(text(faceOf(f, 'b').querySelector('output.xssab-readout')), /^B \(5, 7\):/);
    assert.equal(canvas.getAttribute('tabindex'), '0');
    assert.ok(canvas.getAttribute('aria-label'));
  });

  it('the threshold control posts setThreshold once, after the debounce, and refuses out-of-range values', async () => {
    f = mount({ debounceMs: 50 });
    const number = f.root.querySelector<HTMLInputElement>('input[type="number"]')!;
    const slider = f.root.querySelector<HTMLInputElement>('input[type="range"][aria-label="Decision threshold slider"]')!;
    assert.equal(number.value, '0.3');
    for (const v of ['0.2', '0.25']) {
      number.value = v;
      number.dispatchEvent(new f.window.Event('input'));
    }
    assert.equal(slider.value, '0.25');
    assert.deepEqual(f.posted, []);
    await sleep(80);
    assert.deepEqual(f.posted, [{ type: 'setThreshold', threshold: 0.25 }]);
    number.value = '1.5';
    number.dispatchEvent(new f.window.Event('input'));
    await sleep(80);
    assert.equal(f.posted.length, 1);
    assert.equal(number.getAttribute('aria-invalid'), 'true');
    number.value = '0.3'; // back at the shown threshold: nothing to re-run
    number.dispatchEvent(new f.window.Event('input'));
    await sleep(80);
    assert.equal(f.posted.length, 1);
    assert.equal(number.getAttribute('aria-invalid'), 'false');
    // The host answers with a new explanation: the control shows its threshold.
    f.viewer.update({ ...goldenPayload(), threshold: 0.25, decision: 'no match', margin: -0.008 });
    assert.equal(number.value, '0.25');
    assert.match(text(f.root.querySelector('.xssab-decision')), /^No match \(−0\.0080 below the threshold\)$/);
  });

  it('the default debounce is about 300 ms', async () => {
    f = mount();
    const number = f.root.querySelector<HTMLInputElement>('input[type="number"]')!;
    number.value = '0.1';
    number.dispatchEvent(new f.window.Event('input'));
    await sleep(200);
    assert.deepEqual(f.posted, []);
    await sleep(200);
    assert.deepEqual(f.posted, [{ type: 'setThreshold', threshold: 0.1 }]);
  });

  it('export result and export maps post their requests; a static viewer has no threshold control and no export buttons', () => {
    f = mount();
    const button = (label: RegExp) => [...f.root.querySelectorAll('button')].find((b) => label.test(text(b)))!;
    button(/result/).click();
    button(/maps \(NPY\)/).click();
    assert.deepEqual(f.posted, [{ type: 'exportResult' }, { type: 'exportMaps' }]);
    assert.equal(f.root.querySelectorAll('.xssab-face button').length, 2);
    f.viewer.dispose();
    f = mount({ host: false });
    assert.equal(f.root.querySelectorAll('button').length, 0);
    assert.equal(f.root.querySelector('input[type="number"]'), null);
    assert.equal(f.root.querySelectorAll('.xssab-face').length, 2);
  });

  it('the score decomposition shows the split and the largest arguments', () => {
    f = mount();
    const section = f.root.querySelector('.xssab-decomposition')!;
    assert.match(text(section), /Supporting \(aₙ ≥ β\): 3 dimensions, sum \+0\.6000/);
    assert.match(text(section), /Opposing \(aₙ < β\): 5 dimensions, sum −0\.2590/);
    const bars = (cls: string) => [...section.querySelectorAll(`rect.${cls} title`)].map((t) => t.textContent);
    assert.deepEqual(bars('xssab-bar-supporting'), ['dimension 5: +0.3000 (supporting)', 'dimension 0: +0.2000 (supporting)', 'dimension 2: +0.1000 (supporting)']);
    assert.deepEqual(bars('xssab-bar-opposing'), [
      'dimension 4: −0.2000 (opposing)',
      'dimension 1: −0.0500 (opposing)',
      'dimension 7: −0.0100 (opposing)',
      'dimension 6: +0.0000 (opposing)',
      'dimension 3: +0.0010 (opposing)',
    ]);
  });

  it('on the photos zooms to the explained face, with a whole-photo toggle; thumbnails of the faces choose one', () => {
    const payload = goldenPayload();
    // Photo 16×16; faces at (8, 4) 4×4 and (0, 0) 2×2; face 0 is explained.
    Object.assign(payload.a, { faces: [{ box: [8, 4, 4, 4], landmarks: [], score: 0.9 }, { box: [0, 0, 2, 2], landmarks: [], score: 0.8 }], faceIndex: 0 });
    f = mount({ photos: true, chooseFace: true, payload });
    const wholeToggle = [...f.root.querySelectorAll('label')].find((l) => l.textContent === 'Whole photo')!;
    assert.equal(wholeToggle.hidden, true, 'hidden on the aligned crops');
    const photos = f.root.querySelector<HTMLInputElement>('input[type="checkbox"]')!;
    photos.checked = true;
    photos.dispatchEvent(new f.window.Event('change'));
    assert.equal(wholeToggle.hidden, false);
    // The view: the box widened by half its size on each side, [6, 2, 8, 8].
    assert.deepEqual(zoomView([8, 4, 4, 4], 16, 16), [6, 2, 8, 8]);
    assert.deepEqual(zoomView([0, 0, 2, 2], 16, 16), [0, 0, 3, 3]); // within the photo
    const stage = faceOf(f, 'a').querySelector<HTMLElement>('.xssab-stage')!;
    const image = faceOf(f, 'a').querySelector<HTMLImageElement>('img')!;
    assert.equal(stage.style.aspectRatio, '8 / 8');
    assert.deepEqual([image.style.left, image.style.top, image.style.width, image.style.height], ['-75%', '-25%', '200%', '200%']);
    assert.equal(canvasOf(f, 'a').style.width, '200%');
    // B has no detected face box: the whole photo.
    assert.equal(faceOf(f, 'b').querySelector<HTMLImageElement>('img')!.style.width, '100%');
    // Hover at photo pixel (10, 6) = crop (5, 3): the cursor sits at ((10.5 − 6) / 8, (6.5 − 2) / 8) of the stage.
    placeCanvas(f, 'a', 0, 0, 10);
    hover(f, 'a', 10 * 10 + 5, 6 * 10 + 5);
    const cursor = faceOf(f, 'a').querySelector<HTMLElement>('.xssab-cursor')!;
    assert.deepEqual([cursor.style.left, cursor.style.top], [`${(4.5 / 8) * 100}%`, `${(4.5 / 8) * 100}%`]);
    const wholeBox = wholeToggle.querySelector('input')!;
    wholeBox.checked = true;
    wholeBox.dispatchEvent(new f.window.Event('change'));
    assert.equal(stage.style.aspectRatio, '16 / 16');
    assert.equal(image.style.width, '100%');
    // The face list's thumbnails: each face's box cut from the photo; a click explains that face.
    const thumbs = [...faceOf(f, 'a').querySelectorAll<HTMLButtonElement>('.xssab-face-thumb-button')];
    assert.equal(thumbs.length, 2);
    assert.deepEqual(thumbs.map((b) => b.getAttribute('aria-pressed')), ['true', 'false']);
    const thumb = thumbs[1].querySelector<HTMLElement>('.xssab-face-thumb')!;
    assert.deepEqual(thumbnailStyle([0, 0, 2, 2], 16, 16, 40), { backgroundSize: '320px 320px', backgroundPosition: '0px 0px' });
    assert.equal(thumb.style.backgroundSize, '320px 320px');
    assert.deepEqual(thumbnailStyle([8, 4, 4, 4], 16, 16, 40), { backgroundSize: '160px 160px', backgroundPosition: '-80px -40px' });
    thumbs[0].click(); // the face already explained
    thumbs[1].click();
    assert.deepEqual(f.posted, [{ type: 'chooseFace', side: 'a', face: 1 }]);
    assert.equal(faceOf(f, 'b').querySelector<HTMLElement>('.xssab-face-thumbs')!.hidden, true);
  });

  it('in the panel, a photo with several faces lists them and posts the one chosen', () => {
    const face = (size: number): DetectedFace => ({ box: [0, 0, size, size], landmarks: [], score: 0.9 });
    const payload = goldenPayload();
    Object.assign(payload.a, { faces: [face(9), face(7), face(5)], faceIndex: 1 });
    Object.assign(payload.b, { faces: [face(9)], faceIndex: 0 });
    f = mount({ chooseFace: true, payload });
    const choice = (side: 'a' | 'b') => faceOf(f, side).querySelector<HTMLLabelElement>('.xssab-face-choice')!;
    assert.equal(choice('b').hidden, true, 'one face: nothing to choose');
    assert.equal(choice('a').hidden, false);
    const select = choice('a').querySelector('select')!;
    assert.deepEqual([...select.options].map((o) => o.text), ['1 of 3 (largest)', '2 of 3', '3 of 3']);
    assert.equal(select.value, '1', 'the explained face is selected');
    select.value = '2';
    select.dispatchEvent(new f.window.Event('change'));
    assert.deepEqual(f.posted, [{ type: 'chooseFace', side: 'a', face: 2 }]);
    selectKind(f, 'similarity'); // a redraw while the host works keeps the choice
    assert.equal(select.value, '2');
    f.viewer.update(payload); // the host could not explain it: the shown face again
    assert.equal(select.value, '1');
    // The new explanation selects its face; a notebook output (no face choice) lists none.
    f.viewer.update({ ...payload, a: { ...payload.a, faceIndex: 2 } });
    assert.equal(select.value, '2');
    f.viewer.dispose();
    f = mount({ payload });
    assert.equal(f.root.querySelector('.xssab-face-choice'), null);
  });

  it('the photo toggle shows the photos and maps hover positions through the alignment', () => {
    f = mount();
    assert.ok(f.root.querySelector<HTMLInputElement>('input[type="checkbox"]')!.closest('label')!.hidden, 'no photos: no toggle');
    f.viewer.dispose();
    f = mount({ photos: true });
    const toggle = f.root.querySelector<HTMLInputElement>('input[type="checkbox"]')!;
    assert.equal(toggle.closest('label')!.hidden, false);
    toggle.checked = true;
    toggle.dispatchEvent(new f.window.Event('change'));
    assert.equal(faceOf(f, 'a').querySelector('img')!.getAttribute('src'), PHOTO);
    assert.equal(canvasOf(f, 'a').width, 16);
    placeCanvas(f, 'a', 0, 0, 10);
    hover(f, 'a', 10 * 10 + 5, 6 * 10 + 5); // photo pixel (10, 6) = crop pixel (5, 3)
    assert.match(text(faceOf(f, 'b').querySelector('output.xssab-readout')), /^B \(5, 3\): similarity 46 % \(6\.00e-2\)/);
    const cursor = faceOf(f, 'b').querySelector<HTMLElement>('.xssab-cursor')!;
    assert.equal(cursor.style.left, `${(10.5 / 16) * 100}%`);
    // A result without transforms (e.g. resized without alignment) cannot be projected.
    const payload = goldenPayload();
    delete payload.b.transform;
    payload.b.alignment = 'resized';
    f.viewer.update(payload, { a: PHOTO, b: PHOTO });
    assert.ok(toggle.closest('label')!.hidden);
    assert.equal(faceOf(f, 'a').querySelector('img')!.getAttribute('src'), PNG);
  });
});
