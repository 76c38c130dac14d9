/**
 * What every measurement returns, and how it is shown: plain-text tables a person can read in a
 * terminal, and target lines that say "met" or "missed" with the ratio to the goal.
 * @module
 */

export type Cell = string | number | null;

export interface Table {
  title: string;
  columns: string[];
  rows: Cell[][];
}

export interface Target {
  name: string;
  /** The goal as written in the issue, e.g. "≤ 2000 ms". */
  goal: string;
  /** The measured figure, formatted. */
  figure: string;
  /** null when the figure could not be measured. */
  met: boolean | null;
  /** measured ÷ goal (or goal ÷ measured where more is better): below 1 means inside the goal. */
  ratio: number | null;
}

export interface Section {
  id: string;
  title: string;
  tables: Table[];
  targets: Target[];
  notes: string[];
  /** The raw figures, for the JSON file. */
  data: Record<string, unknown>;
  error?: string;
  seconds?: number;
}

export function section(id: string, title: string): Section {
  return { id, title, tables: [], targets: [], notes: [], data: {} };
}

/** A goal where smaller is better: met when `value ≤ limit` (or `< limit` when `strict`). */
export function atMost(name: string, value: number | null, limit: number, unit: string, strict = false): Target {
  const met = value === null || !Number.isFinite(value) ? null : strict ? value < limit : value <= limit;
  return { name, goal: `${strict ? '<' : '≤'} ${fmt(limit)} ${unit}`, figure: value === null ? 'n/a' : `${fmt(value)} ${unit}`, met, ratio: met === null ? null : value! / limit };
}

/** A goal where bigger is better: met when `value ≥ floor`; ratio is floor ÷ value. */
export function atLeast(name: string, value: number | null, floor: number, unit: string): Target {
  const met = value === null || !Number.isFinite(value) ? null : value >= floor;
  return { name, goal: `≥ ${fmt(floor)}${unit}`, figure: value === null ? 'n/a' : `${fmt(value)}${unit}`, met, ratio: met === null ? null : floor / value! };
}

export function fmt(value: Cell, digits?: number): string {
  if (value === null) return 'n/a';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return 'n/a';
  const d = digits ?? (Number.isInteger(value) || Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

export const mb = (bytes: number): number => bytes / (1024 * 1024);

export function renderTable(table: Table): string {
  const cells = table.rows.map((r) => r.map((c) => fmt(c)));
  const widths = table.columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [table.title, line(table.columns), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)].map((l) => `  ${l}`).join('\n');
}

export function renderSection(s: Section): string {
  const out = [`\n${s.title}${s.seconds !== undefined ? `  (${fmt(s.seconds, 0)} s)` : ''}`];
  if (s.error) out.push(`  failed: ${s.error}`);
  for (const t of s.tables) out.push(renderTable(t));
  for (const n of s.notes) out.push(`  · ${n}`);
  return out.join('\n');
}

export function renderTargets(sections: Section[]): string {
  const targets = sections.flatMap((s) => s.targets);
  const table: Table = {
    title: 'Targets',
    columns: ['target', 'goal', 'measured', 'result', 'ratio to goal'],
    rows: [
      ...targets.map((t): Cell[] => [t.name, t.goal, t.figure, t.met === null ? 'n/a' : t.met ? 'met' : 'missed', t.ratio === null ? 'n/a' : `${fmt(t.ratio, 2)}×`]),
      ...sections.filter((s) => s.error).map((s): Cell[] => [s.title.split(':')[0]!, '', 'n/a', 'n/a', s.error!.slice(0, 60)]),
    ],
  };
  return `\n${renderTable(table)}`;
}
