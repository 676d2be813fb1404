import * as fs from 'node:fs';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from './errors.js';
import { checkFolderTarget, writeFileWhole, writeFileWholeAsync, writeFolderWhole } from './write-whole.js';

/**
 * The real file system, watched: every fsync is recorded (with what it flushed), and a test can make
 * a chosen call "crash" the process: that call and every file-system call after it throw, as if the
 * power went, so what is on the disk is exactly what a crash at that point leaves.
 */
const watch = vi.hoisted(() => ({
  synced: [] as string[],
  crashAt: null as null | ((call: string, args: unknown[]) => boolean),
  crashed: false,
}));
class Crash extends Error {}
vi.mock('node:fs', async (original) => {
  const real = await original<typeof import('node:fs')>();
  const watched = <K extends keyof typeof real>(name: K) =>
    ((...args: unknown[]) => {
      if (watch.crashed || watch.crashAt?.(name, args)) {
        watch.crashed = true;
        throw new Crash(`crashed at ${name}`);
      }
      if (name === 'fsyncSync') {
        const stat = real.fstatSync(args[0] as number);
        watch.synced.push(`${stat.isDirectory() ? 'dir' : 'file'} ${stat.ino}`);
      }
      return (real[name] as (...a: unknown[]) => unknown)(...args);
    }) as (typeof real)[K];
  const names = ['openSync', 'writeSync', 'fsyncSync', 'closeSync', 'renameSync', 'rmSync', 'mkdirSync', 'readdirSync', 'existsSync', 'statSync'] as const;
  const replaced = Object.fromEntries(names.map((n) => [n, watched(n)]));
  return { ...real, ...replaced, default: { ...real, ...replaced } };
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sim-whole-'));
  watch.synced = [];
  watch.crashAt = null;
  watch.crashed = false;
});
afterEach(() => {
  watch.crashAt = null;
  watch.crashed = false;
  rmSync(dir, { recursive: true, force: true });
});

/** The inode of a path, as the fsync record names it. */
function inode(path: string, kind: 'file' | 'dir'): string {
  return `${kind} ${fs.statSync(path).ino}`;
}


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

describe('durability', () => {
  it('flushes the file before it takes its name and the folder after the rename (sync and async)', async () => {
    const file = join(dir, 'a.txt');
    writeFileWhole(file, 'hello');
    // The partial file was renamed onto `file`: the same inode was flushed, then its folder.
    expect(watch.synced).toEqual([inode(file, 'file'), inode(dir, 'dir')]);
    watch.synced = [];
    const other = join(dir, 'b.txt');
    await writeFileWholeAsync(
      other,
      (async function* () {
        yield 'a';
        yield 'b';
      })(),
    );
    expect(readFileSync(other, 'utf8')).toBe('ab');
    expect(watch.synced).toEqual([inode(other, 'file'), inode(dir, 'dir')]);
  });

  it('flushes every file and folder of a new folder, and the parent after the swap', () => {
    const target = join(dir, 'out');
    writeFolderWhole(target, (staging) => {
      mkdirSync(join(staging, 'sub'));
      writeFileSync(join(staging, 'sub', 'x.csv'), 'x');
      writeFileSync(join(staging, 'y.txt'), 'y');
    });
    const expected = [inode(join(target, 'sub', 'x.csv'), 'file'), inode(join(target, 'sub'), 'dir'), inode(join(target, 'y.txt'), 'file'), inode(target, 'dir'), inode(dir, 'dir')];
    expect([...watch.synced].sort()).toEqual([...expected].sort());
    // The parent is flushed last: after the rename that put the new folder in place.
    expect(watch.synced.at(-1)).toBe(inode(dir, 'dir'));
  });

  /** The old version, complete, somewhere under `dir`'s parent: the folder itself or one beside it. */
  function versionsOnDisk(): Record<string, string[]> {
    const found: Record<string, string[]> = {};
    for (const name of readdirSync(dir)) found[name] = readdirSync(join(dir, name)).sort();
    return found;
  }

  it('a crash at any step of replacing a folder leaves a complete version, which the next write finds', () => {
    const target = join(dir, 'out');
    const fill = (staging: string) => {
      writeFileSync(join(staging, 'new-1.txt'), 'new');
      writeFileSync(join(staging, 'new-2.txt'), 'new');
    };
    // Crash at each file-system call of the swap in turn (1st, 2nd, ... after the fill), until a write gets through.
    let completed = false;
    for (let crashAfter = 0; !completed; crashAfter++) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(target, { recursive: true });
      writeFileSync(join(target, 'old-1.txt'), 'old');
      writeFileSync(join(target, 'old-2.txt'), 'old');
      let filled = false;
      let calls = 0;
      watch.crashed = false;
      watch.crashAt = (call) => filled && ['renameSync', 'rmSync', 'fsyncSync', 'openSync'].includes(call) && calls++ === crashAfter;
      try {
        writeFolderWhole(target, (staging) => {
          fill(staging);
          filled = true;
        });
        completed = true;
      } catch (error) {
        expect(error).toBeInstanceOf(Crash);
      }
      watch.crashAt = null;
      watch.crashed = false;
      const onDisk = versionsOnDisk();
      const complete = Object.values(onDisk).filter((files) => files.join() === 'old-1.txt,old-2.txt' || files.join() === 'new-1.txt,new-2.txt');
      expect(complete.length, `crash at call ${crashAfter}: ${JSON.stringify(onDisk)}`).toBeGreaterThan(0);
      // The next look at the target (what an export does first) finds a complete version under its name.
      checkFolderTarget(target);
      expect(fs.existsSync(target), `after a crash at call ${crashAfter}, ${target} is missing: ${JSON.stringify(onDisk)}`).toBe(true);
      const now = readdirSync(target).sort().join();
      expect(['old-1.txt,old-2.txt', 'new-1.txt,new-2.txt'], `after a crash at call ${crashAfter}`).toContain(now);
      expect(crashAfter).toBeLessThan(100);
    }
    expect(readdirSync(target).sort()).toEqual(['new-1.txt', 'new-2.txt']);
    expect(readdirSync(dir)).toEqual(['out']);
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
