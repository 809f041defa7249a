import { contrastRatio } from '../shared/colour';

/**
 * The decision label: white text on a dark green or red badge in every theme (light, dark,
 * high contrast), so its contrast does not depend on the theme's colours: 6.6:1 for both
 * (WCAG AA asks 4.5:1). High-contrast themes add their border; forced colours use the system's.
 */
export const DECISION_COLOURS = {
  match: { text: '#ffffff', background: '#1a6b32' },
  nomatch: { text: '#ffffff', background: '#b42318' },
} as const;
for (const { text, background } of Object.values(DECISION_COLOURS)) {
  if (contrastRatio(text, background) < 4.5) throw new Error(`decision label contrast ${text} on ${background} is under 4.5:1`);
}

// The viewer's stylesheet. Colours come from VS Code's theme variables (present in webviews and
// notebook outputs), with fallbacks for anywhere else; in high-contrast themes
// --vscode-contrastBorder is set, so every box, bar and control gets a visible border there.
export const VIEWER_CSS = `
.xssab-viewer {
  color: var(--vscode-foreground, #1f1f1f);
  background: var(--vscode-editor-background, transparent);
  font-family: var(--vscode-font-family, system-ui, sans-serif);
  font-size: var(--vscode-font-size, 13px);
  line-height: 1.4;
}
.xssab-viewer [hidden] { display: none !important; }
.xssab-viewer :focus-visible { outline: 2px solid var(--vscode-focusBorder, #0078d4); outline-offset: 2px; }
.xssab-viewer h2 { font-size: 1.25em; margin: 0 0 0.4em; overflow-wrap: anywhere; }
.xssab-viewer h3 { font-size: 1.1em; margin: 1em 0 0.4em; }
/* A long term (a model's name) wraps within 40% of the width rather than squeezing its value. */
.xssab-facts { display: grid; grid-template-columns: fit-content(40%) minmax(0, 1fr); gap: 2px 12px; margin: 0; }
.xssab-facts dt { color: var(--vscode-descriptionForeground, #6b6b6b); overflow-wrap: anywhere; }
.xssab-facts dd { margin: 0; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
.xssab-decision { font-weight: 600; padding: 0 4px; border: 1px solid var(--vscode-contrastBorder, transparent); border-radius: 2px; }
.xssab-decision.xssab-match { color: ${DECISION_COLOURS.match.text}; background: ${DECISION_COLOURS.match.background}; }
.xssab-decision.xssab-nomatch { color: ${DECISION_COLOURS.nomatch.text}; background: ${DECISION_COLOURS.nomatch.background}; }
.xssab-warnings { margin: 0.4em 0 0; padding-left: 1.2em; color: var(--vscode-editorWarning-foreground, #8a5a00); }
.xssab-controls { display: flex; flex-wrap: wrap; gap: 8px 18px; align-items: center; margin: 12px 0; }
.xssab-controls label { display: inline-flex; gap: 6px; align-items: center; }
.xssab-viewer select, .xssab-viewer input[type="number"] {
  color: var(--vscode-input-foreground, inherit);
  background: var(--vscode-input-background, transparent);
  border: 1px solid var(--vscode-input-border, var(--vscode-contrastBorder, #8888));
  padding: 2px 4px;
  font: inherit;
}
.xssab-viewer input[type="number"] { width: 6.5em; }
.xssab-viewer input[type="range"] { accent-color: var(--vscode-button-background, #0078d4); }
.xssab-viewer button {
  color: var(--vscode-button-foreground, #fff);
  background: var(--vscode-button-background, #0078d4);
  border: 1px solid var(--vscode-button-border, var(--vscode-contrastBorder, transparent));
  padding: 3px 10px;
  font: inherit;
  cursor: pointer;
}
.xssab-viewer button:hover:not(:disabled) { background: var(--vscode-button-hoverBackground, #026ec1); }
.xssab-viewer button:disabled { opacity: 0.5; cursor: default; }
.xssab-threshold { display: inline-flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.xssab-note { color: var(--vscode-descriptionForeground, #6b6b6b); }
/* The two faces stay side by side in any width (down to a 320-px panel): they shrink, not stack. */
.xssab-faces { display: flex; flex-wrap: nowrap; gap: clamp(6px, 2vw, 16px); }
.xssab-face { margin: 0; flex: 1 1 0; max-width: 360px; min-width: 0; }
.xssab-face button { max-width: 100%; white-space: normal; }
.xssab-legend-note { display: block; font-size: 0.85em; color: var(--vscode-descriptionForeground, #6b6b6b); }
.xssab-face figcaption { font-weight: 600; margin-bottom: 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.xssab-face-choice { display: flex; gap: 6px; align-items: center; margin-bottom: 4px; }
.xssab-stage { position: relative; overflow: hidden; width: 100%; border: 1px solid var(--vscode-contrastBorder, var(--vscode-panel-border, #8884)); }
.xssab-stage img, .xssab-stage canvas { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
.xssab-stage.xssab-pixelated img, .xssab-stage.xssab-pixelated canvas { image-rendering: pixelated; }
.xssab-map { cursor: crosshair; }
.xssab-stage canvas.xssab-outline { pointer-events: none; }
.xssab-face-thumbs { display: flex; flex-wrap: wrap; gap: 4px; margin-bottom: 4px; }
.xssab-viewer button.xssab-face-thumb-button { display: inline-flex; flex-direction: column; align-items: center; padding: 2px; gap: 1px; font-size: 0.85em; }
.xssab-viewer button.xssab-face-thumb-button[aria-pressed="true"] { outline: 2px solid var(--vscode-focusBorder, #0078d4); }
.xssab-face-thumb { display: block; width: 40px; height: 40px; background-repeat: no-repeat; }
.xssab-region-chart { max-width: 460px; }
.xssab-check-faces { display: flex; flex-wrap: nowrap; gap: 12px; }
.xssab-check-face { margin: 0; flex: 1 1 0; min-width: 0; max-width: 300px; }
.xssab-check-face figcaption { font-size: 0.9em; }
.xssab-check-map { stroke: var(--vscode-charts-blue, #1f6fd1); stroke-width: 2; }
.xssab-check-random { stroke: var(--vscode-descriptionForeground, #6b6b6b); stroke-width: 1.5; stroke-dasharray: 4 3; }
.xssab-region-row .xssab-region-hit { fill: transparent; stroke: none; }
.xssab-region-row:hover .xssab-region-hit, .xssab-region-row:focus .xssab-region-hit { fill: var(--vscode-list-hoverBackground, #8882); }
.xssab-region-row:focus { outline: none; }
.xssab-region-row:focus-visible .xssab-region-hit { stroke: var(--vscode-focusBorder, #0078d4); }
.xssab-cursor {
  position: absolute; width: 12px; height: 12px; margin: -7px 0 0 -7px; box-sizing: content-box;
  border: 1px solid #fff; outline: 1px solid #000; border-radius: 50%; pointer-events: none;
}
.xssab-legend { display: flex; align-items: center; gap: 6px; margin-top: 4px; font-size: 0.9em; font-variant-numeric: tabular-nums; }
.xssab-legend-bar { flex: 1; height: 10px; border: 1px solid var(--vscode-contrastBorder, #8886); }
.xssab-readout { display: block; min-height: 2.8em; margin: 4px 0; font-size: 0.9em; font-variant-numeric: tabular-nums; }
.xssab-chart { display: block; width: 100%; max-width: 600px; height: auto; }
.xssab-chart text { fill: currentColor; font-size: 11px; }
.xssab-chart .xssab-axis { stroke: currentColor; }
.xssab-chart rect { stroke: var(--vscode-contrastBorder, none); }
.xssab-bar-supporting { fill: var(--vscode-charts-green, #1a9850); }
.xssab-bar-opposing { fill: var(--vscode-charts-red, #d73027); }
@media (forced-colors: active) {
  .xssab-decision { color: CanvasText; background: Canvas; border-color: CanvasText; }
  .xssab-bar-supporting, .xssab-bar-opposing { fill: CanvasText; }
  .xssab-cursor { border-color: Highlight; outline-color: CanvasText; }
}
`;

// The pair-list gallery (inside a .xssab-viewer container, so it shares the controls' look).
// Cards are buttons laid out on a fixed grid (their size is set per summary through the CSSOM).
export const GALLERY_CSS = `
.xssab-gallery-maps { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: flex-start; }
.xssab-gallery-maps figure { margin: 0; }
.xssab-gallery-maps figcaption { font-size: 0.9em; color: var(--vscode-descriptionForeground, #6b6b6b); }
.xssab-gallery-maps img { width: 96px; height: 96px; image-rendering: pixelated; border: 1px solid var(--vscode-contrastBorder, transparent); }
.xssab-gallery-maps .xssab-gallery-headline img { width: 224px; height: 224px; }
.xssab-viewer button.xssab-gallery-map { padding: 0; background: none; border: none; cursor: zoom-in; }
.xssab-viewer button.xssab-gallery-map:hover:not(:disabled) { background: none; }
.xssab-viewer button.xssab-gallery-map[aria-expanded="true"] { cursor: zoom-out; }
.xssab-gallery-maps button.xssab-gallery-map[aria-expanded="true"] img { width: min(448px, 90vw); height: auto; aspect-ratio: 1; }
.xssab-gallery-legends { display: flex; flex-direction: column; gap: 4px; min-width: 200px; max-width: 280px; }
.xssab-gallery-legend .xssab-legend { font-size: 0.85em; }
.xssab-gallery-headline .xssab-gallery-legend { max-width: 224px; }
.xssab-gallery-kinds { display: flex; gap: 4px; }
.xssab-gallery-scroller { position: relative; overflow-y: auto; border: 1px solid var(--vscode-contrastBorder, var(--vscode-panel-border, #8884)); }
.xssab-gallery-spacer { position: relative; }
.xssab-gallery-row { position: absolute; left: 0; right: 0; display: flex; }
.xssab-viewer .xssab-gallery-card {
  box-sizing: border-box; padding: 12px; display: flex; flex-direction: column; align-items: flex-start; gap: 0;
  color: inherit; background: transparent; border: 1px solid transparent; text-align: left; line-height: 18px;
}
.xssab-viewer .xssab-gallery-card:hover:not(:disabled) { background: var(--vscode-list-hoverBackground, #8882); }
.xssab-viewer .xssab-gallery-card.xssab-selected {
  background: var(--vscode-list-inactiveSelectionBackground, #8883);
  border-color: var(--vscode-contrastActiveBorder, var(--vscode-focusBorder, #0078d4));
}
.xssab-gallery-card span { display: block; max-width: 100%; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-variant-numeric: tabular-nums; }
.xssab-gallery-card img, .xssab-gallery-placeholder { width: 128px; image-rendering: pixelated; }
.xssab-gallery-placeholder, .xssab-gallery-card span.xssab-gallery-placeholder { display: flex; align-items: center; justify-content: center; border: 1px dashed var(--vscode-descriptionForeground, #8888); font-size: 0.85em; }
.xssab-gallery-error { color: var(--vscode-errorForeground, #b42318); font-weight: 600; }
.xssab-gallery-detail { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: flex-start; margin: 8px 0; }
.xssab-gallery-detail img { width: 256px; image-rendering: pixelated; }
.xssab-gallery-detail .xssab-facts { flex: 1 1 300px; }
.xssab-gallery-groups { overflow-x: auto; }
.xssab-gallery-groups table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 4px 0 8px; }
.xssab-gallery-groups th, .xssab-gallery-groups td { padding: 2px 8px; text-align: right; border-bottom: 1px solid var(--vscode-panel-border, #8884); white-space: nowrap; }
.xssab-gallery-groups th:first-child, .xssab-gallery-groups td:first-child { text-align: left; }
.xssab-gallery-groups .xssab-note { text-align: left; }
.xssab-gallery-groups tr.xssab-too-small td { color: var(--vscode-descriptionForeground, #6b6b6b); }
.xssab-gallery-controls input[type="search"] {
  color: var(--vscode-input-foreground, inherit);
  background: var(--vscode-input-background, transparent);
  border: 1px solid var(--vscode-input-border, var(--vscode-contrastBorder, #8888));
  padding: 2px 4px;
  font: inherit;
}
`;
