// Charts of the reports, drawn with vega-lite to SVG without a browser.

/** Compiles a vega-lite spec and renders it headless to an SVG string. */
export async function vegaLiteSvg(spec: object): Promise<string> {
  // Loaded on first use: vega is large and most commands draw no chart.
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');
  const view = new vega.View(vega.parse(vegaLite.compile(spec as Parameters<typeof vegaLite.compile>[0]).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
