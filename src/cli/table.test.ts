import { describe, expect, it } from 'vitest';
import { cut, fittedLines, printTable } from './table.js';

/** The summary `sim run` prints: nine columns, stream names up to ~25 characters. */
const headers = ['condition', 'eligible', 'turnout', 'treated', 'turnout treated', 'turnout untreated', 'mean final likelihood', 'effect vs control', 'turnout effect'];
const rows: Array<Array<string | number>> = [
  ['control', 16044, '61.2%', 0, '-', '61.2%', '2.345', '-', '-'],
  ['experiment_info_message/12 (unfinished)', 16044, '62.0%', 8123, '63.1%', '60.8%', '2.401', '+0.056', '+0.8 pts'],
];

function printed(width: number): string[] {
  const out: string[] = [];
  printTable(headers, rows, (s) => out.push(s), width);
  return out.join('').trimEnd().split('\n');
}

describe('printTable', () => {
  it('prints a table when it fits', () => {
    const lines = printed(200);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^condition\s+eligible\s+turnout\s+treated\s+turnout treated/);
    expect(lines[1]).toMatch(/^-+ {2}-+/);
    // numbers right-aligned under their header
    expect(lines[2].indexOf('16044') + 5).toBe(lines[0].indexOf('eligible') + 'eligible'.length);
  });

  it('lays each row out as a block within 80 columns when the table is wider', () => {
    const lines = printed(80);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    // a heading per row, then its cells: 8 pairs, two to a line
    expect(lines).toHaveLength(2 * (1 + 4));
    expect(lines[0]).toBe('control');
    expect(lines[5]).toBe('experiment_info_message/12 (unfinished)');
    const block = lines.slice(6).join('\n');
    for (const [i, h] of headers.slice(1).entries()) expect(block).toMatch(new RegExp(`${h} +${String(rows[1][i + 1]).replace(/[+.$]/g, '\\$&')}(\\s|$)`));
  });

  it('names a numeric first cell by its header, and puts unnamed columns (markers) in the heading', () => {
    const out: string[] = [];
    printTable(['users', 'seeds', 'power', ''], [[100, 1, '57.4%', ''], [171, 1, '80.2%', '<- paired']], (s) => out.push(s), 20);
    expect(out.join('').trimEnd().split('\n')).toEqual(['users 100', '  seeds      1', '  power  57.4%', 'users 171  <- paired', '  seeds      1', '  power  80.2%']);
  });

  it('puts one pair per line when even two do not fit', () => {
    const lines = printed(40);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(40);
    expect(lines).toHaveLength(2 * (1 + 8));
  });
});

describe('fittedLines', () => {
  const head = ['id', 'status', 'last round', 'events', 'fingerprint'];
  const body: Array<Array<string | number>> = [
    [1, 'finished', '30', 744030, '5c645594ba8b1004'],
    [12, 'interrupted', '12 (treatment_soc_message)', 474932, '5b518d0502af5e88'],
  ];

  it('prints one aligned line per row when the table fits', () => {
    expect(fittedLines(head, body, [2, 4], 80)).toEqual([
      'id  status       last round                  events  fingerprint',
      '--  -----------  --------------------------  ------  ----------------',
      ' 1  finished     30                          744030  5c645594ba8b1004',
      '12  interrupted  12 (treatment_soc_message)  474932  5b518d0502af5e88',
    ]);
  });

  it('narrows the columns named, first named first, cutting their cells with "…", never wrapping a row', () => {
    // 68 columns wide; at 60 the last round loses 8 characters (it can give 20).
    const lines = fittedLines(head, body, [2, 4], 60);
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(60);
    expect(lines[3]).toBe('12  interrupted  12 (treatment_so…  474932  5b518d0502af5e88');
    expect(lines[2]).toBe(' 1  finished     30                 744030  5c645594ba8b1004');
    // At 44, the last round is down to its least (6) and the fingerprint gives the rest (6 more).
    const narrow = fittedLines(head, body, [2, 4], 44);
    expect(narrow[3]).toBe('12  interrupted  12 (t…  474932  5b518d0502…');
    for (const line of narrow) expect(line.length).toBeLessThanOrEqual(44);
  });

  it('cuts a line that is still too wide at the width', () => {
    const lines = fittedLines(head, body, [], 30);
    expect(lines.map((l) => l.length)).toEqual([30, 30, 30, 30]);
    expect(lines[3]).toBe('12  interrupted  12 (treatmen…');
  });

  it('cut leaves short text alone and ends a cut one with "…"', () => {
    expect(cut('control', 7)).toBe('control');
    expect(cut('control', 6)).toBe('contr…');
    expect(cut('control', 0)).toBe('');
  });
});
