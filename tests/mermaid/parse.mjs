// Parse Mermaid diagrams with the real mermaid package: stdin holds a JSON
// list of diagram texts; print one JSON list of {"ok": true, "type": ...}
// or {"ok": false, "error": ...}, in order; exit 1 when any was rejected.
// mermaid needs a DOM even to parse: jsdom provides one under node. One
// process reads them all, since starting mermaid costs a second.
import { JSDOM } from "jsdom";
import { readFileSync } from "node:fs";

const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });
const texts = JSON.parse(readFileSync(0, "utf8"));
const answers = [];
for (const text of texts) {
  try {
    const result = await mermaid.parse(text);
    answers.push({ ok: true, type: result.diagramType });
  } catch (e) {
    answers.push({ ok: false, error: String(e.message || e).slice(0, 500) });
    process.exitCode = 1;
  }
}
console.log(JSON.stringify(answers));
