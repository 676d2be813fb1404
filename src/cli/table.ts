/** Prints rows as an aligned plain-text table (numbers right-aligned). */
export function printTable(headers: string[], rows: Array<Array<string | number>>, write = (s: string) => process.stdout.write(s)): void {
  const cells = [headers, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  for (const [index, row] of cells.entries()) {
    const line = row.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
    write(`${line.trimEnd()}\n`);
    if (index === 0) write(`${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  }
}
