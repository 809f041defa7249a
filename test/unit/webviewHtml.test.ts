// The webview page skeleton: the CSP allows nothing but what a page lists, and the script by nonce.
import * as assert from 'assert';
import { cspMeta, newNonce, scriptPage } from '../../src/extension/webviewHtml';

describe('webview pages', () => {
  it('starts every CSP from default-src none', () => {
    assert.strictEqual(
      cspMeta(['img-src vscode-resource: data:']),
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src vscode-resource: data:">`,
    );
  });

  it('gives a new 18-byte nonce each time', () => {
    const [a, b] = [newNonce(), newNonce()];
    assert.match(a, /^[A-Za-z0-9+/]{24}$/);
    assert.notStrictEqual(a, b);
  });

  it('runs the one script it names, allowed by the nonce', () => {
    const page = scriptPage({ title: 'xSSAB gallery', script: 'https://r/gallery.js', nonce: 'N0', allowed: ['img-src R data:', "style-src 'nonce-N0'"] });
    assert.strictEqual(
      page,
      `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src R data:; style-src 'nonce-N0'; script-src 'nonce-N0'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>xSSAB gallery</title>
</head>
<body>
<script nonce="N0" src="https://r/gallery.js"></script>
</body>
</html>
`,
    );
  });

  it('puts the extra head line after the title', () => {
    const page = scriptPage({ title: 'xSSAB', script: 's.js', nonce: 'N1', allowed: [], head: '<link rel="stylesheet" href="p.css">' });
    assert.ok(page.includes('<title>xSSAB</title>\n<link rel="stylesheet" href="p.css">\n</head>'), page);
    assert.ok(page.includes(`content="default-src 'none'; script-src 'nonce-N1'"`), page);
  });
});
