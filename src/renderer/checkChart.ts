// The trust check's chart: for each face, the pair's score as more of that face is blurred, in
// the map's order (solid) and in a random order (dashed), with the area between the curves.
import type { CheckCurve, TrustCheck } from '../shared/result';
import { el, svg } from './dom';

/** In words: what the area between the curves says about this pair's map. */
export function checkVerdict(curve: CheckCurve): string {
  return curve.area > 0 ? 'the map beats a random order' : 'the map does no better than a random order';
}

export function checkChart(doc: Document, check: TrustCheck): HTMLElement {
  const [w, h, left, bottom] = [200, 110, 34, 18];
  const scores = (['a', 'b'] as const).flatMap((s) => [...check[s].map, ...check[s].random]);
  const [lo, hi] = [Math.min(...scores), Math.max(...scores)];
  const span = hi - lo || 1;
  const last = check.levels[check.levels.length - 1];
  const x = (level: number) => left + (level / last) * (w - left - 6);
  const y = (score: number) => 6 + (1 - (score - lo) / span) * (h - bottom - 6);
  const line = (values: number[], cls: string) => svg(doc, 'polyline', { class: cls, fill: 'none', points: values.map((v, i) => `${x(check.levels[i]).toFixed(1)},${y(v).toFixed(1)}`).join(' ') });
  const panels = (['a', 'b'] as const).map((side) => {
    const c = check[side];
    const label = `${side.toUpperCase()}: score ${c.map[0].toFixed(3)} → ${c.map[c.map.length - 1].toFixed(3)} with ${last} % blurred in the map's order, → ${c.random[c.random.length - 1].toFixed(3)} in a random order; area between the curves ${c.area >= 0 ? '+' : ''}${c.area.toFixed(4)}: ${checkVerdict(c)}`;
    return el(doc, 'figure', { class: 'xssab-check-face' },
      svg(doc, 'svg', { class: 'xssab-chart xssab-check-chart', viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': label },
        svg(doc, 'line', { class: 'xssab-axis', x1: left, x2: left, y1: 6, y2: h - bottom }),
        svg(doc, 'line', { class: 'xssab-axis', x1: left, x2: w - 6, y1: h - bottom, y2: h - bottom }),
        svg(doc, 'text', { x: 0, y: 12 }, hi.toFixed(2)),
        svg(doc, 'text', { x: 0, y: h - bottom }, lo.toFixed(2)),
        svg(doc, 'text', { x: left, y: h - 4 }, '0 %'),
        svg(doc, 'text', { x: w - 36, y: h - 4 }, `${last} %`),
        line(c.random, 'xssab-check-random'),
        line(c.map, 'xssab-check-map'),
      ),
      el(doc, 'figcaption', {}, `${side.toUpperCase()}: area ${c.area >= 0 ? '+' : ''}${c.area.toFixed(4)}, ${checkVerdict(c)}`),
    );
  });
  const how = `Score as 5–${last} % of one face is replaced by a blurred copy: solid, in the map's order (${check.order}); dashed, in a random order. If the map is right, its curve moves toward the other decision faster (area > 0).`;
  return el(doc, 'div', { class: 'xssab-check' }, el(doc, 'div', { class: 'xssab-check-faces' }, ...panels), el(doc, 'p', { class: 'xssab-note' }, how));
}
