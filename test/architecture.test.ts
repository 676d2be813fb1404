import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './helpers.js';

/**
 * Keeps docs/architecture.md true: the layers it draws are checked over the import graph of src/
 * (test files excluded). The known departures are listed here by name, with the map's own words
 * for why they exist; a new one fails, and removing one means deleting its line.
 */
const KNOWN_DEPARTURES = new Set<string>([]);

/** Import cycles between files that exist today; a new cycle fails. */
const KNOWN_CYCLES: string[][] = [];

const IO_PACKAGES = ['node:fs', 'node:net', 'node:http', 'node:https', 'node:child_process', 'node:worker_threads', 'better-sqlite3', 'kysely', 'openai', 'pg'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

const files = sourceFiles(join(PROJECT_ROOT, 'src'));
const texts = new Map(files.map((f) => [relative(PROJECT_ROOT, f), readFileSync(f, 'utf8')]));
const specifiers = (text: string) => [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]);
/** file -> the files of ours it imports, as repo-relative .ts paths */
const graph = new Map(
  [...texts].map(([file, text]) => [
    file,
    specifiers(text)
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(PROJECT_ROOT, resolve(PROJECT_ROOT, dirname(file), s)).replace(/\.js$/, '.ts')),
  ]),
);

function edgesFrom(folder: string, allowed: (target: string) => boolean): string[] {
  return [...graph].flatMap(([file, targets]) => (file.startsWith(folder) ? targets.filter((t) => !allowed(t)).map((t) => `${file} -> ${t}`) : []));
}

/** Strongly connected components of more than one file (Tarjan). */
function cycles(): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

const matches = (pattern: string, file: string) => (pattern.endsWith('/*') ? file.startsWith(pattern.slice(0, -1)) && !file.slice(pattern.length - 1).includes('/') : file === pattern);

describe('the layers of docs/architecture.md', () => {
  it('finds the source files it checks', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('src/cli/commands/run.ts')).toContain('src/api/run.ts');
  });

  it('commands import the API module they call, not the src/api barrel, which would load every command at start', () => {
    expect(edgesFrom('src/cli/', (t) => t !== 'src/api/index.ts')).toEqual([]);
  });

  it('the API imports nothing of the CLI, and only the CLI imports the API', () => {
    expect(edgesFrom('src/api/', (t) => !t.startsWith('src/cli/'))).toEqual([]);
    const intoApi = [...graph].flatMap(([file, targets]) => (file.startsWith('src/api/') || file.startsWith('src/cli/') ? [] : targets.filter((t) => t.startsWith('src/api/')).map((t) => `${file} -> ${t}`)));
    expect(intoApi).toEqual([]);
  });

  it('commands import no other command', () => {
    expect(edgesFrom('src/cli/commands/', (t) => !t.startsWith('src/cli/commands/'))).toEqual([]);
  });

  it('commands call the API: besides types, they import only src/api, the CLI and the error classes', () => {
    const runtime = [...texts]
      .filter(([f]) => f.startsWith('src/cli/commands/'))
      .flatMap(([f, text]) =>
        [...text.matchAll(/^import (?!type )[^;]*?from '(\.[^']+)'/gm)]
          .map((m) => relative(PROJECT_ROOT, resolve(PROJECT_ROOT, dirname(f), m[1])).replace(/\.js$/, '.ts'))
          .filter((t) => !t.startsWith('src/api/') && !t.startsWith('src/cli/') && t !== 'src/errors.ts')
          .map((t) => `${f} -> ${t}`),
      );
    expect(runtime).toEqual([]);
  });

  it('the domain imports only the domain and the error classes, and no IO', () => {
    const outside = edgesFrom('src/domain/', (t) => t.startsWith('src/domain/') || t === 'src/errors.ts');
    expect(outside.filter((e) => !KNOWN_DEPARTURES.has(e))).toEqual([]);
    const io = [...texts].filter(([f]) => f.startsWith('src/domain/')).flatMap(([f, text]) => specifiers(text).filter((s) => IO_PACKAGES.includes(s)).map((s) => `${f} -> ${s}`));
    expect(io).toEqual([]);
  });

  it('the store imports only the store, the error classes and the migrations', () => {
    const outside = edgesFrom('src/events/', (t) => t.startsWith('src/events/') || t === 'src/errors.ts' || t.startsWith('migrations/'));
    expect(outside.filter((e) => !KNOWN_DEPARTURES.has(e))).toEqual([]);
  });

  it('every known departure still exists (delete its line when it is fixed)', () => {
    const all = new Set([...graph].flatMap(([file, targets]) => targets.map((t) => `${file} -> ${t}`)));
    expect([...KNOWN_DEPARTURES].filter((d) => !all.has(d))).toEqual([]);
  });

  it('only the storage implementations and the job queue import a database driver or hold SQL', () => {
    // src/queue is the job queue's adapter (pg-boss over pg): it reads and marks pg-boss's job table.
    const backends = (f: string) => f.startsWith('src/events/sqlite/') || f.startsWith('src/events/postgres/') || f.startsWith('src/queue/');
    const drivers = [...texts]
      .filter(([f]) => !backends(f))
      .flatMap(([f, text]) => specifiers(text).filter((s) => s === 'better-sqlite3' || s === 'pg' || (s === 'kysely' && f !== 'src/events/schema.ts')).map((s) => `${f} -> ${s}`));
    expect(drivers).toEqual([]);
    const sqlText = /['"`]\s*(select\s|insert\s+into\s|update\s+\w+\s+set\s|delete\s+from\s|create\s+table\s)/i;
    expect([...texts].filter(([f, text]) => !backends(f) && sqlText.test(text)).map(([f]) => f)).toEqual([]);
  });

  it('only src/cli prints', () => {
    const printing = [...texts].filter(([f, text]) => !f.startsWith('src/cli/') && /process\.(stdout|stderr)\.write|console\.(log|error|warn|info)\(/.test(text)).map(([f]) => f);
    expect(printing).toEqual([]);
  });

  it('has no import cycle beyond the known ones', () => {
    const unknown = cycles().filter((component) => !KNOWN_CYCLES.some((known) => component.every((f) => known.some((p) => matches(p, f)))));
    expect(unknown).toEqual([]);
  });
});
