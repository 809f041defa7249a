// Notebook output renderer (an ES module loaded by VS Code's notebook webview) for three MIME types:
// a finished explanation, shown with the static viewer; a request, sent to the extension host over
// renderer messaging and shown once the host answers (with "Check this map", which asks the host
// for the trust check the same way); and an explained pair list, shown with the static gallery.
import type { ActivationFunction, OutputItem, RendererApi, RendererContext } from 'vscode-notebook-renderer';
import { EXPLANATION_MIME, type ExplanationPayload, PAIRLIST_MIME, REQUEST_MIME } from '../shared/result';
import { renderGallery } from './galleryView';
import { type Envelope, type ExplainRequest, type NotebookHostMessage, type NotebookMessage, parseExplainRequest, parsePairListOutput, unexpected } from '../shared/protocol';
import { Requests, type Settle } from '../shared/requests';
import { renderNotice } from './dom';
import { displayName } from './format';
import { renderExplanation, type ViewerHandle } from './viewer';

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

/**
 * Sends requests to the extension host and takes its replies. Results are kept per request (the
 * JSON of the validated request), so re-rendering an output, or another output with the same
 * request, does not run the engine again; failures are forgotten so they can be retried.
 */
export class ExplainClient {
  private readonly results = new Map<string, Promise<ExplanationPayload>>();
  private readonly requests: Requests<NotebookMessage, NotebookHostMessage>;

  constructor(
    post: (message: Envelope<NotebookMessage>) => void,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {
    // The host answers every renderer of a notebook on one channel: ids tell their requests apart.
    this.requests = new Requests(post, { idPrefix: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-` });
  }

  explain(request: ExplainRequest, run: boolean): Promise<ExplanationPayload> {
    const key = JSON.stringify(request);
    let result = this.results.get(key);
    if (!result) {
      result = this.send({ type: 'explain', request, run });
      this.results.set(key, result);
      result.catch(() => this.results.delete(key));
    }
    return result;
  }

  /** The request explained again with the trust check; once it arrives it is the result kept for the request. */
  check(request: ExplainRequest): Promise<ExplanationPayload> {
    const checked = this.send({ type: 'checkMap', request });
    checked.then(
      () => this.results.set(JSON.stringify(request), checked),
      () => undefined,
    );
    return checked;
  }

  /** Takes a message from the host; answers to requests of other renderers are ignored. */
  receive(message: Envelope<NotebookHostMessage>): void {
    this.requests.receive(message);
  }

  private send(message: NotebookMessage): Promise<ExplanationPayload> {
    const onReply = (reply: NotebookHostMessage, settle: Settle<ExplanationPayload>) => {
      switch (reply.type) {
        case 'explained':
          settle.resolve(reply.payload);
          break;
        case 'explainFailed':
          settle.reject(new ExplainFailure(reply.message, reply.needsTrust === true));
          break;
        default:
          unexpected(reply);
      }
    };
    return this.requests.request(message, onReply, {
      timeoutMs: this.timeoutMs,
      timeoutError: () => new ExplainFailure(`no answer from the xSSAB extension after ${Math.round(this.timeoutMs / 1000)} s`),
    });
  }
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The renderer; `timeoutMs` is for tests. */
export function createRenderer(context: RendererContext<unknown>, timeoutMs = REQUEST_TIMEOUT_MS): RendererApi {
  const post = context.postMessage?.bind(context);
  const client = post ? new ExplainClient(post, timeoutMs) : undefined;
  if (client) context.onDidReceiveMessage?.((m: Envelope<NotebookHostMessage>) => client.receive(m));
  // What each output shows: its viewer, or a pending request whose disposal drops a late answer.
  const outputs = new Map<string, { dispose(): void }>();

  function disposeOutput(id: string): void {
    outputs.get(id)?.dispose();
    outputs.delete(id);
  }

  /** `check`: runs the trust check and resolves with the checked explanation (a request's output). */
  function renderPayload(id: string, element: HTMLElement, payload: unknown, check?: () => Promise<ExplanationPayload>): void {
    try {
      let viewer: ViewerHandle | undefined;
      const checkMap = check && (async () => viewer?.update(await check()));
      viewer = renderExplanation(element, payload as ExplanationPayload, null, { checkMap });
      outputs.set(id, viewer);
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
        if (live) renderPayload(id, element, payload, () => client.check(request));
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
