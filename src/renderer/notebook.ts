// Notebook output renderer (an ES module loaded by VS Code's notebook webview) for three MIME types:
// a finished explanation, shown with the static viewer; a request, sent to the extension host over
// renderer messaging and shown once the host answers; and an explained pair list, shown with the
// static gallery.
import type { ActivationFunction, OutputItem, RendererApi, RendererContext } from 'vscode-notebook-renderer';
import { EXPLANATION_MIME, type ExplanationPayload, PAIRLIST_MIME, REQUEST_MIME } from '../shared/result';
import { renderGallery } from './galleryView';
import { type ExplainRequest, type HostMessage, parseExplainRequest, parsePairListOutput, type ViewerMessage } from '../shared/protocol';
import { displayName, renderExplanation, renderNotice } from './viewer';

/** How long a request waits for the extension's answer. */
export const REQUEST_TIMEOUT_MS = 120_000;
/** Height of a pair-list output's scrolling grid (a notebook output grows with its content). */
const GALLERY_HEIGHT_PX = 480;
export const NO_MESSAGING = "xSSAB: this output needs the xSSAB extension's messaging, which is not available here.";

/** The host refused or failed a request; `needsTrust` when it waits for the user's go-ahead. */
export class ExplainFailure extends Error {
  constructor(
    message: string,
    readonly needsTrust = false,
  ) {
    super(message);
  }
}

interface Pending {
  resolve(payload: ExplanationPayload): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

let requestCount = 0;

/**
 * Sends requests to the extension host and matches the answers by request id. Results are kept per
 * request (the JSON of the validated request), so re-rendering an output, or another output with
 * the same request, does not run the engine again; failures are forgotten so they can be retried.
 */
export class ExplainClient {
  private readonly results = new Map<string, Promise<ExplanationPayload>>();
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly post: (message: ViewerMessage) => void,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {}

  explain(request: ExplainRequest, run: boolean): Promise<ExplanationPayload> {
    const key = JSON.stringify(request);
    let result = this.results.get(key);
    if (!result) {
      result = this.send(request, run);
      this.results.set(key, result);
      result.catch(() => this.results.delete(key));
    }
    return result;
  }

  /** Takes a message from the host; answers to requests of other renderers are ignored. */
  receive(message: HostMessage): void {
    if (message?.type !== 'explained' && message?.type !== 'explainFailed') return;
    const pending = this.pending.get(message.requestId);
    if (!pending) return;
    this.pending.delete(message.requestId);
    clearTimeout(pending.timer);
    if (message.type === 'explained') pending.resolve(message.payload);
    else pending.reject(new ExplainFailure(message.message, message.needsTrust === true));
  }

  private send(request: ExplainRequest, run: boolean): Promise<ExplanationPayload> {
    const requestId = `${Date.now().toString(36)}-${++requestCount}-${Math.random().toString(36).slice(2, 8)}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new ExplainFailure(`no answer from the xSSAB extension after ${Math.round(this.timeoutMs / 1000)} s`));
      }, this.timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      this.post({ type: 'explain', requestId, request, run });
    });
  }
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The renderer; `timeoutMs` is for tests. */
export function createRenderer(context: RendererContext<unknown>, timeoutMs = REQUEST_TIMEOUT_MS): RendererApi {
  const post = context.postMessage?.bind(context);
  const client = post ? new ExplainClient(post, timeoutMs) : undefined;
  if (client) context.onDidReceiveMessage?.((m: HostMessage) => client.receive(m));
  // What each output shows: its viewer, or a pending request whose disposal drops a late answer.
  const outputs = new Map<string, { dispose(): void }>();

  function disposeOutput(id: string): void {
    outputs.get(id)?.dispose();
    outputs.delete(id);
  }

  function renderPayload(id: string, element: HTMLElement, payload: unknown): void {
    try {
      outputs.set(id, renderExplanation(element, payload as ExplanationPayload, null));
    } catch (e) {
      renderNotice(element, `xSSAB: cannot show this explanation: ${message(e)}`, 'error');
    }
  }

  function renderRequest(id: string, element: HTMLElement, item: OutputItem): void {
    let request: ExplainRequest;
    try {
      request = parseExplainRequest(item.json());
    } catch (e) {
      renderNotice(element, `xSSAB: invalid request: ${message(e)}`, 'error');
      return;
    }
    if (!client) {
      renderNotice(element, NO_MESSAGING, 'error');
      return;
    }
    let live = true;
    outputs.set(id, { dispose: () => (live = false) });
    const run = async (runNow: boolean) => {
      renderNotice(element, `xSSAB: explaining ${displayName(request.a)} and ${displayName(request.b)}…`, 'progress');
      try {
        const payload = await client.explain(request, runNow);
        if (live) renderPayload(id, element, payload);
      } catch (e) {
        if (!live) return;
        const notice = renderNotice(element, `xSSAB: ${message(e)}`, 'error');
        if (e instanceof ExplainFailure && e.needsTrust) {
          const button = element.ownerDocument.createElement('button');
          button.type = 'button';
          button.textContent = 'Run xSSAB';
          button.addEventListener('click', () => void run(true));
          notice.after(button);
        }
      }
    };
    void run(false);
  }

  return {
    renderOutputItem(item, element) {
      disposeOutput(item.id);
      if (item.mime === EXPLANATION_MIME) {
        let payload: unknown;
        try {
          payload = item.json();
        } catch (e) {
          renderNotice(element, `xSSAB: the explanation is not valid JSON: ${message(e)}`, 'error');
          return;
        }
        renderPayload(item.id, element, payload);
      } else if (item.mime === REQUEST_MIME) {
        renderRequest(item.id, element, item);
      } else if (item.mime === PAIRLIST_MIME) {
        try {
          outputs.set(item.id, renderGallery(element, parsePairListOutput(item.json()), null, { gridHeight: `${GALLERY_HEIGHT_PX}px` }));
        } catch (e) {
          renderNotice(element, `xSSAB: cannot show this pair list: ${message(e)}`, 'error');
        }
      } else {
        renderNotice(element, `xSSAB: cannot render ${item.mime}`, 'error');
      }
    },
    disposeOutputItem(id) {
      for (const key of id === undefined ? [...outputs.keys()] : [id]) disposeOutput(key);
    },
  };
}

export const activate: ActivationFunction = (context) => createRenderer(context);
