// The example notebook in the notebook editor: its stored explanation renders without the
// extension host, and its request output shows the explanation the extension computed, with the
// score the engine gives for that pair. Checked in the DOM of the notebook's output webview.
import * as fs from 'fs';
import * as path from 'path';
import type { Frame, Page } from 'playwright-core';
import { Engine } from '../../src/engine/engine';
import { EXPLANATION_MIME, type ExplanationPayload, REQUEST_MIME } from '../../src/shared/result';
import type { ExplainRequest } from '../../src/shared/protocol';
import { formatScore } from '../../src/renderer/format';
import { repoRoot } from './build';
import { NOTEBOOK } from './pair';

const RENDER_MS = 90_000;

interface StoredOutputs {
  explanation: ExplanationPayload;
  request: ExplainRequest;
}

function storedOutputs(notebookFile: string): StoredOutputs {
  const notebook = JSON.parse(fs.readFileSync(notebookFile, 'utf8')) as { cells: { outputs?: { data?: Record<string, unknown> }[] }[] };
  const data = notebook.cells.flatMap((c) => c.outputs ?? []).map((o) => o.data ?? {});
  const explanation = data.find((d) => d[EXPLANATION_MIME])?.[EXPLANATION_MIME] as ExplanationPayload | undefined;
  const request = data.find((d) => d[REQUEST_MIME])?.[REQUEST_MIME] as ExplainRequest | undefined;
  if (!explanation || !request) throw new Error(`${NOTEBOOK} lacks an output of ${explanation ? REQUEST_MIME : EXPLANATION_MIME}`);
  return { explanation, request };
}

/** The engine's score for the request's pair, on the model the extension bundles. */
async function engineScore(request: ExplainRequest, notebookFolder: string): Promise<number> {
  const engine = await Engine.create({ model: path.join(repoRoot, 'models', 'mobilefacenet.onnx'), ep: 'cpu' });
  try {
    const [a, b] = [request.a, request.b].map((p) => path.resolve(notebookFolder, p));
    return (await engine.explainPair({ source: a, label: a }, { source: b, label: b })).result.score;
  } finally {
    await engine.dispose();
  }
}

export interface ShownViewer {
  title: string;
  faces: number;
  score: string;
}

/** What the viewers in one frame show: title, number of face canvases, the score shown. */
export async function viewers(frame: Frame): Promise<ShownViewer[]> {
  const all = frame.locator('.xssab-viewer');
  const shown: ShownViewer[] = [];
  for (let i = 0; i < (await all.count().catch(() => 0)); i++) {
    const viewer = all.nth(i);
    shown.push({
      title: (await viewer.locator('h2').first().textContent()) ?? '',
      faces: await viewer.locator('canvas.xssab-map').count(),
      score: (await viewer.locator('.xssab-facts dd').first().textContent()) ?? '',
    });
  }
  return shown;
}

/** The notices (progress, errors) shown in all frames, for the failure message. */
async function notices(page: Page): Promise<string[]> {
  const texts = await Promise.all(page.frames().map((f) => f.locator('.xssab-notice').allTextContents().catch(() => [])));
  return texts.flat();
}

/**
 * "Check this map" in the request's output: the extension explains the request again with the
 * trust check, and the output draws its two charts (one per face).
 */
async function checkRequestOutput(page: Page, title: string): Promise<string> {
  for (const frame of page.frames()) {
    const viewer = frame.locator('.xssab-viewer', { has: frame.locator('h2', { hasText: title }) });
    if ((await viewer.count().catch(() => 0)) === 0) continue;
    // Dispatched, not clicked: the output may lie outside the notebook's scrolled view, where the
    // workbench above the output webview takes the pointer.
    await viewer.locator('.xssab-trust button', { hasText: 'Check this map' }).dispatchEvent('click', undefined, { timeout: 10_000 });
    const charts = viewer.locator('svg.xssab-check-chart');
    // Drawn, not necessarily visible: the output can lie outside the notebook's scrolled view.
    await charts.nth(1).waitFor({ state: 'attached', timeout: RENDER_MS }).catch(async () => {
      throw new Error(`the request output drew no check chart within ${RENDER_MS / 1000} s; it says: ${await viewer.locator('.xssab-trust').textContent()}`);
    });
    const captions = await viewer.locator('.xssab-check-face figcaption').allTextContents();
    return `Check this map drew ${await charts.count()} charts (${captions.join('; ')})`;
  }
  throw new Error(`no frame shows the request output ${title}`);
}

/** Opens the example notebook from the Explorer and checks both outputs; the message says what was shown. */
export async function checkExampleNotebook(page: Page, workspaceDir: string): Promise<string> {
  const notebookFile = path.join(workspaceDir, NOTEBOOK);
  const stored = storedOutputs(notebookFile);
  const expectedScore = formatScore(await engineScore(stored.request, path.dirname(notebookFile)));
  const name = (p: string) => path.basename(p);
  const explanationTitle = `${name(stored.explanation.a.path)} ↔ ${name(stored.explanation.b.path)}`;
  const requestTitle = `${name(stored.request.a)} ↔ ${name(stored.request.b)}`;

  const row = (label: string) => page.locator('.explorer-folders-view .monaco-list-row', { hasText: label });
  await row(path.dirname(NOTEBOOK)).click();
  await row(path.basename(NOTEBOOK)).click();

  // The outputs live in the notebook's webview (nested iframes); the panel's webview may exist too.
  const deadline = Date.now() + RENDER_MS;
  let shown: ShownViewer[] = [];
  for (;;) {
    for (const frame of page.frames()) {
      const inFrame = await viewers(frame);
      if (inFrame.length > shown.length) shown = inFrame;
    }
    const explanation = shown.find((v) => v.title === explanationTitle);
    const request = shown.find((v) => v.title === requestTitle);
    if (explanation && request) {
      const problems = [
        explanation.faces !== 2 && `the stored explanation shows ${explanation.faces} faces, not 2`,
        explanation.score !== formatScore(stored.explanation.score) && `the stored explanation shows score ${explanation.score}, stored ${formatScore(stored.explanation.score)}`,
        request.faces !== 2 && `the request output shows ${request.faces} faces, not 2`,
        request.score !== expectedScore && `the request output shows score ${request.score}, the engine computes ${expectedScore}`,
      ].filter(Boolean);
      if (problems.length) throw new Error(problems.join('; '));
      const check = await checkRequestOutput(page, requestTitle);
      return `${explanationTitle} (stored) score ${explanation.score}; ${requestTitle} (requested) score ${request.score} = engine ${expectedScore}; ${check}`;
    }
    if (Date.now() > deadline) {
      throw new Error(`the notebook's outputs did not both render within ${RENDER_MS / 1000} s; viewers: ${JSON.stringify(shown)}; notices: ${JSON.stringify(await notices(page))}`);
    }
    await page.waitForTimeout(500);
  }
}
