// The face-region chart: for each region, its share of each face's similarity map (what supports
// the match, green) and of its dissimilarity map (what opposes it, red). Hovering or focusing a
// row tells the viewer, which outlines that region on both faces.
import type { RegionSum } from '../shared/result';
import { el, svg } from './dom';

/** Shares of a face's similarity and dissimilarity totals, per region (0 for an empty total). */
export function regionShares(regions: readonly RegionSum[]): { name: string; supports: number; opposes: number; pixels: number }[] {
  const total = (kind: 'similarity' | 'dissimilarity') => regions.reduce((s, r) => s + r[kind], 0);
  const [s, d] = [total('similarity'), total('dissimilarity')];
  return regions.map((r) => ({ name: r.name, supports: s > 0 ? r.similarity / s : 0, opposes: d > 0 ? r.dissimilarity / d : 0, pixels: r.pixels }));
}

/**
 * One row per region, two faces side by side; `onHover` gets the region's index (into the
 * lists, which are in REGION_NAMES order on both faces) or null when the pointer leaves.
 */
export function regionChart(doc: Document, a: readonly RegionSum[], b: readonly RegionSum[], onHover: (region: number | null) => void): HTMLElement {
  const [rowHeight, nameWidth, barWidth, gap] = [22, 84, 150, 16];
  const shares = [regionShares(a), regionShares(b)];
  const largest = Math.max(1e-12, ...shares.flat().flatMap((r) => [r.supports, r.opposes]));
  const width = nameWidth + 2 * (barWidth + gap);
  const heading = (x: number, label: string) => svg(doc, 'text', { x, y: 12, 'font-weight': 'bold' }, label);
  const rows: SVGElement[] = [heading(nameWidth, 'A'), heading(nameWidth + barWidth + gap, 'B')];
  const percent = (v: number) => `${Math.round(100 * v)} %`;
  shares[0].forEach((region, i) => {
    const y = 18 + i * rowHeight;
    const bars = shares.flatMap((face, side) => {
      const x = nameWidth + side * (barWidth + gap);
      const r = face[i];
      return [
        svg(doc, 'rect', { class: 'xssab-bar-supporting', x, y: y + 3, width: Math.max(1, (r.supports / largest) * barWidth), height: 7 }),
        svg(doc, 'rect', { class: 'xssab-bar-opposing', x, y: y + 11, width: Math.max(1, (r.opposes / largest) * barWidth), height: 7 }),
      ];
    });
    const label = `${region.name}: A supports ${percent(region.supports)}, opposes ${percent(region.opposes)}; B supports ${percent(shares[1][i].supports)}, opposes ${percent(shares[1][i].opposes)}`;
    const row = svg(doc, 'g', { class: 'xssab-region-row', tabindex: 0, role: 'listitem', 'aria-label': label },
      svg(doc, 'rect', { class: 'xssab-region-hit', x: 0, y, width, height: rowHeight }),
      svg(doc, 'text', { x: 0, y: y + 15 }, region.name),
      ...bars,
      svg(doc, 'title', {}, label),
    );
    for (const event of ['mouseenter', 'focus']) row.addEventListener(event, () => onHover(i));
    for (const event of ['mouseleave', 'blur']) row.addEventListener(event, () => onHover(null));
    rows.push(row);
  });
  const chart = svg(doc, 'svg', { class: 'xssab-chart xssab-region-chart', viewBox: `0 0 ${width} ${18 + shares[0].length * rowHeight}`, role: 'list', 'aria-label': 'Face regions: share of each face’s supporting (green) and opposing (red) map' }, ...rows);
  return el(doc, 'div', {}, chart, el(doc, 'p', { class: 'xssab-note' }, 'Green: share of the face’s similarity map (supports the match); red: share of its dissimilarity map (opposes it). Hover a region to outline it on both faces. Left and right as seen in the image.'));
}
