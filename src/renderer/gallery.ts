// Gallery webview panel entry (an IIFE bundle, dist/renderer/gallery.js). The host's HTML has an
// empty <body> and this script with a nonce, which the gallery's <style> elements reuse so the
// CSP can be `style-src 'nonce-…'`. The host answers `ready` with the gallery's summary and first
// page, and each `page` request with a `page` reply. The run's folder is kept in the webview
// state: after a window reload the host reads the list from there.
import { type Envelope, type GalleryHostMessage, type GalleryMessage, unexpected } from '../shared/protocol';
import { Envelopes } from '../shared/requests';
import type { GalleryPage } from '../shared/galleryPages';
import { type GalleryHandle, type PageSource, renderGallery } from './galleryView';
import { renderNotice } from './dom';

/** The part of the webview API (acquireVsCodeApi()) the gallery uses. */
export interface GalleryWebviewApi {
  postMessage(message: Envelope<GalleryMessage>): void;
  setState(state: GalleryState): void;
}

export interface GalleryState {
  out: string;
}

declare function acquireVsCodeApi(): GalleryWebviewApi;

/** Starts the gallery in `doc`, posts `ready`, and returns the handler of host messages. */
export function startGallery(api: GalleryWebviewApi, doc: Document, styleNonce?: string): (message: Envelope<GalleryHostMessage>) => void {
  const status = doc.createElement('div');
  const root = doc.createElement('div');
  doc.body.append(status, root);
  const envelopes = new Envelopes('gallery-');
  const host = { post: (m: GalleryMessage) => api.postMessage(envelopes.message(m)) };
  // Page requests waiting for the host's reply, by the id of the request.
  const waiting = new Map<string, (page: GalleryPage) => void>();
  const pages: PageSource = (query, offset, limit) =>
    new Promise((resolve) => {
      const request = envelopes.message({ type: 'page' as const, query, offset, limit });
      waiting.set(request.id, resolve);
      api.postMessage(request);
    });
  let gallery: GalleryHandle | undefined;
  renderNotice(status, 'xSSAB: loading the pair list…', 'progress');
  host.post({ type: 'ready' });

  return (message) => {
    switch (message.type) {
      case 'gallery':
        try {
          if (gallery) gallery.update(message.data);
          else gallery = renderGallery(root, message.data, host, { styleNonce, pages });
          status.replaceChildren();
          api.setState({ out: message.out });
        } catch (e) {
          renderNotice(status, `xSSAB: cannot show this pair list: ${e instanceof Error ? e.message : String(e)}`, 'error');
        }
        break;
      case 'page': {
        const resolve = message.inReplyTo === undefined ? undefined : waiting.get(message.inReplyTo);
        waiting.delete(message.inReplyTo ?? '');
        resolve?.(message.page);
        break;
      }
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
  const handle = startGallery(acquireVsCodeApi(), document, nonce || undefined);
  window.addEventListener('message', (e: MessageEvent<Envelope<GalleryHostMessage>>) => handle(e.data));
}
