type Write = (s: string) => void;
const stdoutWrite: Write = (s) => process.stdout.write(s);

/**
 * Prints rows as an aligned plain-text table (numbers right-aligned). When the table is wider than
 * `width`, each row is printed as a block instead: its first cell as a heading, then its other
 * cells as "header value" pairs, as many side by side as fit (a wrapped table is unreadable).
 */
export function printTable(headers: string[], rows: Array<Array<string | number>>, write: Write = stdoutWrite, width = outputWidth()): void {
  const lines = tableLines(headers, rows);
  if (lines.every((l) => l.length <= width)) {
    for (const line of lines) write(`${line}\n`);
    return;
  }
  for (const line of blockLines(headers, rows, width)) write(`${line}\n`);
}

/**
 * Prints rows as one aligned line each, always within `width`: when the table is wider, the columns
 * named in `shrink` (first named, first cut) are narrowed, their longer cells cut with "…", down to
 * `minWidth` characters each; a line still too wide is cut at the width. For listings (one line per
 * run) that must stay one line per row however narrow the terminal.
 */
export function printFittedTable(headers: string[], rows: Array<Array<string | number>>, shrink: readonly number[], write: Write = stdoutWrite, width = outputWidth()): void {
  for (const line of fittedLines(headers, rows, shrink, width)) write(`${line}\n`);
}

const ELLIPSIS = '…';

/** `text` in at most `width` characters, its end replaced by "…" when cut. */
export function cut(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 0 ? '' : `${text.slice(0, width - 1)}${ELLIPSIS}`;
}

/** The lines of printFittedTable: a header, a rule, one line per row, none longer than `width`. */
export function fittedLines(headers: string[], rows: Array<Array<string | number>>, shrink: readonly number[], width: number, minWidth = 6): string[] {
  const cells = [headers, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  let excess = widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1) - width;
  for (const i of shrink) {
    if (excess <= 0) break;
    const take = Math.min(excess, Math.max(0, widths[i] - minWidth));
    widths[i] -= take;
    excess -= take;
  }
  const line = (row: string[]) => cut(row.map((c, i) => (numeric[i] ? cut(c, widths[i]).padStart(widths[i]) : cut(c, widths[i]).padEnd(widths[i]))).join('  ').trimEnd(), width);
  return [line(headers), cut(widths.map((w) => '-'.repeat(w)).join('  '), width), ...cells.slice(1).map(line)];
}

/** Standard output's width on a terminal; 80 otherwise, so logs and pipes read well anywhere. */
export function outputWidth(stream: NodeJS.WriteStream = process.stdout): number {
  return stream.isTTY && stream.columns && stream.columns > 0 ? stream.columns : 80;
}

function tableLines(headers: string[], rows: Array<Array<string | number>>): string[] {
  const cells = [headers, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const out: string[] = [];
  for (const [index, row] of cells.entries()) {
    out.push(row.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd());
    if (index === 0) out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  return out;
}

/**
 * Each row as a block: a heading, then aligned "header  value" pairs, several to a line when they
 * fit. The heading is the first cell, named by its header when it is a number ("users 171", not a
 * bare "171"), followed by the cells of unnamed columns (markers such as "<- paired").
 */
function blockLines(headers: string[], rows: Array<Array<string | number>>, width: number): string[] {
  const indent = '  ';
  const gap = '    ';
  const named = headers.map((h, i) => i > 0 && h.trim() !== '');
  const unnamed = headers.map((h, i) => i > 0 && h.trim() === '');
  const labelWidth = Math.max(0, ...headers.filter((_, i) => named[i]).map((h) => h.length));
  const valueWidth = Math.max(0, ...rows.flatMap((r) => r.filter((_, i) => named[i]).map((c) => String(c).length)));
  const pairWidth = labelWidth + 2 + valueWidth;
  const perLine = Math.max(1, Math.floor((width - indent.length + gap.length) / (pairWidth + gap.length)));
  const out: string[] = [];
  for (const row of rows) {
    const first = typeof row[0] === 'number' ? `${headers[0]} ${row[0]}` : String(row[0]);
    out.push([first, ...row.filter((c, i) => unnamed[i] && String(c).trim() !== '').map((c) => String(c).trim())].join('  '));
    const pairs = headers.flatMap((h, i) => (named[i] ? [`${h.padEnd(labelWidth)}  ${String(row[i]).padStart(valueWidth)}`] : []));
    for (let i = 0; i < pairs.length; i += perLine) out.push(`${indent}${pairs.slice(i, i + perLine).join(gap)}`.trimEnd());
  }
  return out;
}
