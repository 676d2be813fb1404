import { accessSync, closeSync, constants, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
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

/**
 * Where the previous version of a folder waits while the new one is renamed into place. A fixed
 * name (no pid), so that after a crash between the two renames the next write (or a user listing
 * the parent folder) finds it: `writeFolderWhole` puts it back before anything else.
 */
export function previousBeside(dir: string): string {
  return join(dirname(dir), `.${basename(dir)}.previous`);
}

/**
 * Flushes a folder's entries (a rename or a new file in it) to the disk. Some systems cannot open a
 * folder for that (Windows: EISDIR/EPERM); there a folder's entries are flushed with its files.
 */
function fsyncFolder(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (error) {
    if (['EISDIR', 'EPERM', 'EACCES'].includes((error as NodeJS.ErrnoException).code ?? '')) return;
    throw error;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    // A file system that cannot sync a folder (EINVAL) keeps its entries as well as it can.
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
  } finally {
    closeSync(fd);
  }
}

/** Flushes every file and folder under `dir` (a staging folder written by code that did not sync). */
function fsyncTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) fsyncTree(path);
    else if (entry.isFile()) {
      const fd = openSync(path, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
  fsyncFolder(dir);
}

/**
 * A file being written beside its final name: `write` appends, `commit` flushes it to the disk,
 * renames it into place and flushes the folder (so after a power loss the name holds either the old
 * content or the whole new one), `abort` removes it. The sync and async writers share it.
 */
class PartialFile {
  private readonly partial: string;
  private fd: number | null;

  constructor(
    private readonly file: string,
    private readonly named: Named,
  ) {
    checkFileTarget(file, named);
    this.partial = partialBeside(file);
    try {
      mkdirSync(dirname(file), { recursive: true });
      this.fd = openSync(this.partial, 'w');
    } catch (error) {
      throw cannotWrite(named, error);
    }
  }

  write(text: string): void {
    try {
      writeSync(this.fd!, text);
    } catch (error) {
      throw cannotWrite(this.named, error);
    }
  }

  commit(): void {
    try {
      fsyncSync(this.fd!);
      closeSync(this.fd!);
      this.fd = null;
      renameSync(this.partial, this.file);
      fsyncFolder(dirname(this.file));
    } catch (error) {
      throw cannotWrite(this.named, error);
    }
  }

  /** Removes the partial file; the error that made the write fail is the caller's to throw. */
  abort(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = null;
    }
    rmSync(this.partial, { force: true });
  }
}

/** Gathers produced text into chunks of about 1 MB: few system calls, bounded memory. */
class Chunker {
  private chunk = '';
  constructor(private readonly out: PartialFile) {}
  add(piece: string): void {
    this.chunk += piece;
    if (this.chunk.length > 1 << 20) this.flush();
  }
  flush(): void {
    if (this.chunk) this.out.write(this.chunk);
    this.chunk = '';
  }
}

/** Refuses, before any work, a file target that is a folder or sits under a file. */
export function checkFileTarget(file: string, named: Named = { flag: '', path: file }): void {
  if (existsSync(file) && statSync(file).isDirectory()) {
    throw refuse(named, file === named.path ? `it is a folder; ${named.flag || 'this'} takes a file name` : `${file} is a folder`);
  }
  checkParents(dirname(file), named);
}

/**
 * Refuses, before any work, a folder target (built whole beside itself) that is a file or cannot be
 * created. Puts back a previous version a cut-off write left aside (see `writeFolderWhole`).
 */
export function checkFolderTarget(dir: string, named: Named = { flag: '', path: dir }): void {
  // A write cut off between its two renames left the previous version aside: put it back first, so
  // the checks (and `--force`) judge what the user last had.
  try {
    restorePreviousFolder(dir);
  } catch (error) {
    throw cannotWrite(named, error);
  }
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
 * at all, flushed to the disk before it takes the name. Creates the parent folders.
 */
export function writeFileWhole(file: string, content: string | Iterable<string>, named: Named = { flag: '', path: file }): void {
  const out = new PartialFile(file, named);
  try {
    const chunks = new Chunker(out);
    // A failure while producing the content is the producer's, passed on as it is.
    for (const piece of typeof content === 'string' ? [content] : content) chunks.add(piece);
    chunks.flush();
    out.commit();
  } catch (error) {
    out.abort();
    throw error;
  }
}

/** `writeFileWhole` for chunks produced asynchronously (an export read from the store a page at a time). */
export async function writeFileWholeAsync(file: string, content: AsyncIterable<string>, named: Named = { flag: '', path: file }): Promise<void> {
  const out = new PartialFile(file, named);
  try {
    const chunks = new Chunker(out);
    for await (const piece of content) chunks.add(piece);
    chunks.flush();
    out.commit();
  } catch (error) {
    out.abort();
    throw error;
  }
}

/**
 * Puts back a folder's previous version left aside by a write that was cut off between its two
 * renames (see `writeFolderWhole`): when `dir` is missing and its `.NAME.previous` exists.
 * Returns true when it did.
 */
export function restorePreviousFolder(dir: string): boolean {
  const previous = previousBeside(dir);
  if (existsSync(dir) || !existsSync(previous)) return false;
  renameSync(previous, dir);
  fsyncFolder(dirname(dir));
  return true;
}

/**
 * Builds a folder whole: `fill` writes into a fresh staging folder beside `dir`, which is flushed to
 * the disk and then replaces `dir` (and whatever it held). A failure leaves `dir` as it was.
 *
 * The swap is two renames, `dir` to `.NAME.previous` and the staging folder to `dir`, and the old
 * version is deleted only after the new one is in place and flushed: at every moment one complete
 * version exists under `dir` or `.NAME.previous`. A crash between the renames leaves the old
 * version under `.NAME.previous`, which the next write (or a check of the target) puts back.
 */
export function writeFolderWhole(dir: string, fill: (staging: string) => void, named: Named = { flag: '', path: dir }): void {
  checkFolderTarget(dir, named);
  const staging = partialBeside(dir);
  const previous = previousBeside(dir);
  try {
    rmSync(previous, { recursive: true, force: true });
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
      fsyncTree(staging);
      const hadOld = existsSync(dir);
      if (hadOld) renameSync(dir, previous);
      renameSync(staging, dir);
      fsyncFolder(dirname(dir));
      if (hadOld) rmSync(previous, { recursive: true, force: true });
    } catch (error) {
      // Cut off between the renames (or the new version could not take the name): the old one goes back.
      try {
        restorePreviousFolder(dir);
      } catch {
        // left under .NAME.previous; the next write puts it back
      }
      throw cannotWrite(named, error);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
