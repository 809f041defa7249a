// The score decomposition chart: the embedding dimensions with the largest supporting and
// opposing arguments a_n, as a diverging SVG bar chart.
import { svg } from './dom';
import { formatSigned } from './format';
import type { Argument } from './viewerModel';

/** Bars per group (supporting, opposing) in the decomposition chart. */
export const CHART_ARGUMENTS = 8;

/** A diverging bar chart around 0: the largest supporting arguments, then the largest opposing ones. */
export function argumentChart(doc: Document, top: { supporting: Argument[]; opposing: Argument[] }): SVGElement {
  const [rowHeight, labelWidth, barWidth, valueWidth] = [18, 64, 360, 72];
  const width = labelWidth + barWidth + valueWidth;
  const largest = Math.max(1e-12, ...[...top.supporting, ...top.opposing].map((a) => Math.abs(a.value)));
  const hasNegative = top.opposing.some((a) => a.value < 0);
  // With no negative argument shown the axis sits at the left; otherwise in the middle.
  const zero = labelWidth + (hasNegative ? barWidth / 2 : 0);
  const scale = (hasNegative ? barWidth / 2 : barWidth) / largest;
  const rows: SVGElement[] = [];
  let y = 0;
  const group = (title: string, items: Argument[], cls: string, role: string) => {
    rows.push(svg(doc, 'text', { x: 0, y: y + 13, 'font-weight': 'bold' }, items.length ? title : `${title}: none`));
    y += rowHeight;
    for (const { dim, value } of items) {
      const x = value >= 0 ? zero : zero + value * scale;
      const label = `dimension ${dim}: ${formatSigned(value)} (${role})`;
      rows.push(
        svg(doc, 'text', { x: 0, y: y + 13 }, `dim ${dim}`),
        svg(doc, 'rect', { class: cls, x, y: y + 3, width: Math.max(Math.abs(value) * scale, 1), height: rowHeight - 6 }, svg(doc, 'title', {}, label)),
        svg(doc, 'text', { x: labelWidth + barWidth + 6, y: y + 13 }, formatSigned(value)),
      );
      y += rowHeight;
    }
  };
  group('Largest supporting arguments', top.supporting, 'xssab-bar-supporting', 'supporting');
  group('Largest opposing arguments', top.opposing, 'xssab-bar-opposing', 'opposing');
  rows.push(svg(doc, 'line', { class: 'xssab-axis', x1: zero, x2: zero, y1: rowHeight, y2: y }));
  return svg(doc, 'svg', {
    class: 'xssab-chart',
    viewBox: `0 0 ${width} ${y}`,
    role: 'img',
    'aria-label': `Embedding dimensions with the largest supporting and opposing arguments`,
  }, ...rows);
}
