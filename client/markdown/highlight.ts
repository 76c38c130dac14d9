/**
 * Syntax highlighting for code blocks, loaded only when one is shown (render.ts): highlight.js's
 * core with the languages agents write most. An unknown language stays plain text.
 * @module
 */
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';

for (const [name, lang] of Object.entries({ bash, css, diff, go, javascript, json, markdown, python, rust, typescript, xml, yaml })) hljs.registerLanguage(name, lang);

/** Replaces `node`'s text with the highlighted `code`, when `lang` is known. */
export function highlightInto(node: HTMLElement, code: string, lang: string): void {
  if (!hljs.getLanguage(lang) || node.textContent !== code) return;
  // highlight.js escapes the code itself: its output is spans around escaped text, nothing else.
  node.innerHTML = hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
  node.classList.add('hljs');
}
