// Webview panel entry (an IIFE bundle). The host's HTML needs only an empty <body> and this script
// with a nonce; the same nonce on the viewer's <style> lets the CSP be `style-src 'nonce-…'`.
// The last explanation is kept in the webview state, so a panel restored by VS Code shows it
// before the host answers `ready`.
import type { ExplanationPayload } from '../shared/result';
import { type Envelope, type PanelHostMessage, type PanelMessage, unexpected, type ViewPreferences } from '../shared/protocol';
import { encodePayload } from '../shared/mapCodec';
import { Envelopes } from '../shared/requests';
import { renderNotice } from './dom';
import { type Photos, renderExplanation, type ViewerHandle } from './viewer';

/** The part of the webview API (acquireVsCodeApi()) the panel uses. */
export interface WebviewApi {
  postMessage(message: Envelope<PanelMessage>): void;
  getState(): unknown;
  setState(state: PanelState): void;
}

export interface PanelState {
  payload: ExplanationPayload;
  photos?: Photos;
  view?: ViewPreferences;
}

declare function acquireVsCodeApi(): WebviewApi;

/**
 * Starts the panel in `doc`: restores the saved explanation, posts `ready`, and returns the
 * handler of host messages (which the caller wires to window 'message' events).
 */
export function startPanel(api: WebviewApi, doc: Document, styleNonce?: string): (message: Envelope<PanelHostMessage>) => void {
  const status = doc.createElement('div');
  const root = doc.createElement('div');
  doc.body.append(status, root);
  const envelopes = new Envelopes('panel-');
  const host = { post: (m: PanelMessage) => api.postMessage(envelopes.message(m)) };
  let viewer: ViewerHandle | undefined;

  function show(state: PanelState): void {
    try {
      if (viewer) viewer.update(state.payload, state.photos);
      else viewer = renderExplanation(root, state.payload, host, { photos: state.photos, styleNonce, view: state.view, chooseFace: true });
      status.replaceChildren();
      // The saved state is JSON: maps that arrived as values are kept in base64.
      api.setState({ ...state, payload: encodePayload(state.payload) });
    } catch (e) {
      renderNotice(status, `xSSAB: cannot show this explanation: ${e instanceof Error ? e.message : String(e)}`, 'error');
    }
  }

  const saved = api.getState() as PanelState | undefined;
  if (saved?.payload) show(saved);
  host.post({ type: 'ready' });

  return (message) => {
    switch (message.type) {
      case 'explanation':
        show({ payload: message.payload, photos: message.photos, view: message.view });
        break;
      case 'progress':
        renderNotice(status, message.message, 'progress');
        break;
      case 'error':
        renderNotice(status, message.message, 'error');
        break;
      default:
        unexpected(message);
    }
  };
}

if (typeof acquireVsCodeApi === 'function') {
  const nonce = (document.currentScript as HTMLScriptElement | null)?.nonce;
  const handle = startPanel(acquireVsCodeApi(), document, nonce || undefined);
  window.addEventListener('message', (e: MessageEvent<Envelope<PanelHostMessage>>) => handle(e.data));
}
