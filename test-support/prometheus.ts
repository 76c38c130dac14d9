/**
 * For tests only: a strict parser for the Prometheus text exposition format 0.0.4, so a test
 * fails on anything a real scraper would reject (bad escapes, samples before their TYPE, a family
 * split in two, a missing final newline).
 * @module
 */

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  help?: string;
  type?: string;
  samples: ParsedSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLOAT = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parseExposition(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith('\n')) throw new Error('the text must end with a line feed');
  const families = new Map<string, ParsedFamily>();
  let current: string | undefined;
  const family = (name: string, line: number) => {
    let f = families.get(name);
    if (f && current !== name) throw new Error(`line ${line}: ${name} appears again after another metric`);
    if (!f) {
      f = { name, samples: [] };
      families.set(name, f);
    }
    current = name;
    return f;
  };
  text
    .slice(0, -1)
    .split('\n')
    .forEach((raw, i) => {
      const line = i + 1;
      if (/^\s*$/.test(raw)) return;
      const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (meta) {
        const [, kind, name, rest] = meta as unknown as [string, string, string, string];
        if (!NAME.test(name) || NAME.exec(name)![0] !== name) throw new Error(`line ${line}: bad metric name ${name}`);
        const f = family(name, line);
        if (kind === 'HELP') {
          if (f.help !== undefined) throw new Error(`line ${line}: second HELP for ${name}`);
          f.help = unescapeHelp(rest, line);
        } else {
          if (f.type !== undefined) throw new Error(`line ${line}: second TYPE for ${name}`);
          if (f.samples.length) throw new Error(`line ${line}: TYPE for ${name} after its samples`);
          if (!TYPES.has(rest)) throw new Error(`line ${line}: unknown type ${rest}`);
          f.type = rest;
        }
        return;
      }
      if (raw.startsWith('#')) return;
      const sample = parseSample(raw, line);
      family(sample.name, line).samples.push(sample);
    });
  return families;
}

function parseSample(raw: string, line: number): ParsedSample {
  const name = NAME.exec(raw)?.[0];
  if (!name) throw new Error(`line ${line}: no metric name in ${JSON.stringify(raw)}`);
  let rest = raw.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    while (!rest.startsWith('}')) {
      const key = LABEL_NAME.exec(rest)?.[0];
      if (!key || rest[key.length] !== '=' || rest[key.length + 1] !== '"') throw new Error(`line ${line}: bad label at ${JSON.stringify(rest)}`);
      if (Object.hasOwn(labels, key)) throw new Error(`line ${line}: label ${key} given twice`);
      rest = rest.slice(key.length + 2);
      let value = '';
      for (;;) {
        const c = rest[0];
        if (c === undefined) throw new Error(`line ${line}: unterminated label value`);
        rest = rest.slice(1);
        if (c === '"') break;
        if (c === '\\') {
          const e = rest[0];
          rest = rest.slice(1);
          if (e === '\\') value += '\\';
          else if (e === '"') value += '"';
          else if (e === 'n') value += '\n';
          else throw new Error(`line ${line}: bad escape \\${e} in a label value`);
        } else value += c;
      }
      labels[key] = value;
      if (rest.startsWith(',')) rest = rest.slice(1);
      else if (!rest.startsWith('}')) throw new Error(`line ${line}: expected , or } at ${JSON.stringify(rest)}`);
    }
    rest = rest.slice(1);
  }
  const parts = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
  if (!parts || !FLOAT.test(parts[1]!)) throw new Error(`line ${line}: bad value in ${JSON.stringify(raw)}`);
  const v = parts[1]!;
  return { name, labels, value: /Inf$/.test(v) ? (v.startsWith('-') ? -Infinity : Infinity) : Number(v) };
}

/** HELP text knows only \\ and \n. */
function unescapeHelp(text: string, line: number): string {
  return text.replace(/\\(.?)/g, (_m, e: string) => {
    if (e === '\\') return '\\';
    if (e === 'n') return '\n';
    throw new Error(`line ${line}: bad escape \\${e}`);
  });
}
