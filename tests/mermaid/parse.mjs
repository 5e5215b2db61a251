// Parse one Mermaid diagram (stdin) with the real mermaid package; print
// {"ok": true, "type": ...} or {"ok": false, "error": ...}; exit 1 on error.
// mermaid needs a DOM even to parse: jsdom provides one under node.
import { JSDOM } from "jsdom";
import { readFileSync } from "node:fs";

const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });
const text = readFileSync(0, "utf8");
try {
  const result = await mermaid.parse(text);
  console.log(JSON.stringify({ ok: true, type: result.diagramType }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e.message || e).slice(0, 500) }));
  process.exitCode = 1;
}
