import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { writeFileWhole, writeFolderWhole } from './write-whole.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sim-whole-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileWhole', () => {
  it('writes a string or lazily produced chunks, creating the folders, leaving no partial file', () => {
    writeFileWhole(join(dir, 'a', 'b.txt'), 'hello');
    writeFileWhole(join(dir, 'c.txt'), (function* () {
      for (let i = 0; i < 3; i++) yield `${i}\n`;
    })());
    expect(readFileSync(join(dir, 'a', 'b.txt'), 'utf8')).toBe('hello');
    expect(readFileSync(join(dir, 'c.txt'), 'utf8')).toBe('0\n1\n2\n');
    expect(readdirSync(dir).sort()).toEqual(['a', 'c.txt']);
  });

  it('keeps the old file and passes on the error when producing the content fails', () => {
    const file = join(dir, 'kept.txt');
    writeFileSync(file, 'old');
    const failing = (function* () {
      yield 'new';
      throw new Error('the database went away');
    })();
    expect(() => writeFileWhole(file, failing, { flag: '--to', path: file })).toThrow('the database went away');
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['kept.txt']);
  });

  it('refuses a folder, naming the path as the user gave it', () => {
    mkdirSync(join(dir, 'folder'));
    const folder = join(dir, 'folder');
    const attempt = () => writeFileWhole(folder, 'x', { flag: '--to', path: folder });
    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(`--to ${folder}: cannot write there (it is a folder; --to takes a file name)`);
    // a file inside the folder the user named: the message names both
    mkdirSync(join(dir, 'report', 'report.json'), { recursive: true });
    expect(() => writeFileWhole(join(dir, 'report', 'report.json'), 'x', { flag: '--to', path: join(dir, 'report') })).toThrow(
      `--to ${join(dir, 'report')}: cannot write there (${join(dir, 'report', 'report.json')} is a folder)`,
    );
  });
});

describe('writeFolderWhole', () => {
  it('replaces the folder only once everything was written', () => {
    const target = join(dir, 'out');
    mkdirSync(target);
    writeFileSync(join(target, 'old.txt'), 'old');
    expect(() =>
      writeFolderWhole(target, (staging) => {
        writeFileSync(join(staging, 'new.txt'), 'new');
        throw new Error('halfway');
      }),
    ).toThrow('halfway');
    expect(readdirSync(target)).toEqual(['old.txt']);
    expect(readdirSync(dir)).toEqual(['out']);
    writeFolderWhole(target, (staging) => writeFileSync(join(staging, 'new.txt'), 'new'));
    expect(readdirSync(target)).toEqual(['new.txt']);
    expect(readdirSync(dir)).toEqual(['out']);
  });
});
