// Parse every mermaid block of a markdown file with mermaid's own parser (the one the docs site runs).
// Used by .ci/run: `npm install --prefix .ci/mermaid && node .ci/mermaid/parse.mjs README.md`.
import { JSDOM } from 'jsdom';
import fs from 'fs';
const dom = new JSDOM('<!DOCTYPE html><body></body>');
globalThis.window = dom.window; globalThis.document = dom.window.document;
globalThis.DOMPurify = undefined;
const { default: mermaid } = await import('mermaid');
const src = fs.readFileSync(process.argv[2], 'utf8');
const blocks = [...src.matchAll(/```\{?mermaid\}?\n([\s\S]*?)```/g)].map(m => m[1]);
if (!blocks.length) { console.error('no mermaid block found'); process.exit(2); }
let bad = 0;
for (const b of blocks) {
  try { await mermaid.parse(b); console.log('ok: diagram of', b.split('\n').length, 'lines parses'); }
  catch (e) { bad++; console.error('mermaid syntax error:', String(e.message || e).split('\n').slice(0, 4).join(' | ')); }
}
process.exit(bad ? 1 : 0);
