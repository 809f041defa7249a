// The extension's webview pages. Every Content-Security-Policy starts from `default-src 'none'`
// and each page adds only what it needs; a page with a script runs the one bundle it names,
// allowed by a nonce that is new at every page load. vscode-free, so the unit tests read it.
import * as crypto from 'crypto';

/** A nonce for one page load: 18 random bytes, base64. */
export function newNonce(): string {
  return crypto.randomBytes(18).toString('base64');
}

/** The CSP <meta> element: nothing is allowed but `allowed` (directives such as `img-src … data:`). */
export function cspMeta(allowed: string[]): string {
  const csp = ["default-src 'none'", ...allowed].join('; ');
  return `<meta http-equiv="Content-Security-Policy" content="${csp}">`;
}

export interface ScriptPage {
  title: string;
  /** The bundle's webview URI. */
  script: string;
  nonce: string;
  /** Directives besides `default-src 'none'` and the bundle's `script-src 'nonce-…'`. */
  allowed: string[];
  /** A line for the <head> after the title (a stylesheet link), when given. */
  head?: string;
}

/** A page whose only content is one script: `page.script`, allowed by `page.nonce`. */
export function scriptPage(page: ScriptPage): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
${cspMeta([...page.allowed, `script-src 'nonce-${page.nonce}'`])}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title}</title>
${page.head === undefined ? '' : `${page.head}\n`}</head>
<body>
<script nonce="${page.nonce}" src="${page.script}"></script>
</body>
</html>
`;
}
