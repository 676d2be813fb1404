import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { OutputWriteError, UsageError } from './errors.js';

/**
 * Files and folders that appear whole or not at all: everything is written beside its final name
 * (a hidden `.NAME.partial-PID`) and renamed into place at the end, so an interrupted or failed
 * write never leaves half a file under the name a user (or a script) looks for.
 *
 * Every failure is reported against the path the user gave (`--to DIR`), never the temporary name.
 */
export interface Named {
  /** The flag or argument the user gave the path with, e.g. "--to". */
  flag: string;
  /** The path as the user wrote it. */
  path: string;
}

/** Codes meaning "this path cannot be written": the user picked a wrong place, a usage error. */
const PATH_PROBLEMS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a file is in the way of a folder',
  EISDIR: 'a folder, not a file',
  ENOENT: 'no such folder',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'name too long',
};

/** The one-line error for a failed write, naming the user's path. */
function cannotWrite(named: Named, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (!code) return error instanceof Error ? error : new Error(String(error));
  const problem = PATH_PROBLEMS[code];
  if (problem) return refuse(named, `${code}: ${problem}`);
  // Disk full, I/O errors: not the user's choice of path, so not a usage error.
  return new OutputWriteError(`${named.flag ? `${named.flag} ` : ''}${named.path}: could not write (${code})`, { flag: named.flag ?? null, file: named.path });
}

function refuse(named: Named, why: string): UsageError {
  return new UsageError(`${named.flag ? `${named.flag} ` : ''}${named.path}: cannot write there (${why})`, { flag: named.flag ?? null, file: named.path });
}

function partialBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.partial-${process.pid}`);
}

/** Refuses, before any work, a file target that is a folder or sits under a file. */
export function checkFileTarget(file: string, named: Named = { flag: '', path: file }): void {
  if (existsSync(file) && statSync(file).isDirectory()) {
    throw refuse(named, file === named.path ? `it is a folder; ${named.flag || 'this'} takes a file name` : `${file} is a folder`);
  }
  checkParents(dirname(file), named);
}

/** Refuses, before any work, a folder target (built whole beside itself) that is a file or cannot be created. */
export function checkFolderTarget(dir: string, named: Named = { flag: '', path: dir }): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw refuse(named, `it is a file; ${named.flag || 'this'} takes a folder`);
  checkParents(dirname(dir), named);
}

/** Refuses, before any work, a folder that files will be written into, when it is a file or cannot be written. */
export function checkFolderToWriteInto(dir: string, named: Named = { flag: '', path: dir }): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw refuse(named, `it is a file; ${named.flag || 'this'} takes a folder`);
  checkParents(dir, named);
}

/**
 * The nearest existing folder at or above `dir` is where the first file or folder gets created: it
 * must be a folder, and writable (checked up front, so a long report or export does not fail at
 * its very end).
 */
function checkParents(dir: string, named: Named): void {
  let at = dir;
  while (!existsSync(at)) {
    const up = dirname(at);
    if (up === at) return;
    at = up;
  }
  if (!statSync(at).isDirectory()) throw refuse(named, `${at} is a file, not a folder`);
  try {
    accessSync(at, constants.W_OK);
  } catch (error) {
    throw cannotWrite(named, error);
  }
}

/** True when the folder exists and holds something. */
export function folderHasContent(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory() && readdirSync(dir).length > 0;
}

/**
 * Writes `content` (a string, or chunks produced lazily for large exports) to `file`, whole or not
 * at all. Creates the parent folders.
 */
export function writeFileWhole(file: string, content: string | Iterable<string>, named: Named = { flag: '', path: file }): void {
  checkFileTarget(file, named);
  const partial = partialBeside(file);
  let fd: number;
  try {
    mkdirSync(dirname(file), { recursive: true });
    fd = openSync(partial, 'w');
  } catch (error) {
    throw cannotWrite(named, error);
  }
  let step = 'write';
  try {
    if (typeof content === 'string') {
      writeSync(fd, content);
    } else {
      // Chunks of about 1 MB: few system calls, bounded memory.
      let chunk = '';
      step = 'produce';
      for (const piece of content) {
        chunk += piece;
        if (chunk.length > 1 << 20) {
          step = 'write';
          writeSync(fd, chunk);
          step = 'produce';
          chunk = '';
        }
      }
      step = 'write';
      writeSync(fd, chunk);
    }
    closeSync(fd);
    renameSync(partial, file);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(partial, { force: true });
    // A failure while producing the content is the producer's, not the disk's.
    throw step === 'write' ? cannotWrite(named, error) : error;
  }
}

/** `writeFileWhole` for chunks produced asynchronously (an export read from the store a page at a time). */
export async function writeFileWholeAsync(file: string, content: AsyncIterable<string>, named: Named = { flag: '', path: file }): Promise<void> {
  checkFileTarget(file, named);
  const partial = partialBeside(file);
  let fd: number;
  try {
    mkdirSync(dirname(file), { recursive: true });
    fd = openSync(partial, 'w');
  } catch (error) {
    throw cannotWrite(named, error);
  }
  let step = 'produce';
  try {
    let chunk = '';
    for await (const piece of content) {
      chunk += piece;
      if (chunk.length > 1 << 20) {
        step = 'write';
        writeSync(fd, chunk);
        step = 'produce';
        chunk = '';
      }
    }
    step = 'write';
    writeSync(fd, chunk);
    closeSync(fd);
    renameSync(partial, file);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(partial, { force: true });
    throw step === 'write' ? cannotWrite(named, error) : error;
  }
}

/**
 * Builds a folder whole: `fill` writes into a fresh staging folder beside `dir`, which then
 * replaces `dir` (and whatever it held). A failure leaves `dir` as it was.
 */
export function writeFolderWhole(dir: string, fill: (staging: string) => void, named: Named = { flag: '', path: dir }): void {
  checkFolderTarget(dir, named);
  const staging = partialBeside(dir);
  try {
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
  } catch (error) {
    throw cannotWrite(named, error);
  }
  try {
    try {
      fill(staging);
    } catch (error) {
      throw (error as NodeJS.ErrnoException).code ? cannotWrite(named, error) : error;
    }
    try {
      rmSync(dir, { recursive: true, force: true });
      renameSync(staging, dir);
    } catch (error) {
      throw cannotWrite(named, error);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
