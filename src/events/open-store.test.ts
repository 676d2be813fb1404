import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStoreLocation } from './open-store.js';

const scratch = mkdtempSync(join(tmpdir(), 'sim-open-store-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('parseStoreLocation', () => {
  it('reads a path ending in / as a folder: its sim.db, whether the folder exists or not', () => {
    const absent = join(scratch, 'new-results');
    expect(parseStoreLocation(`${absent}/`)).toEqual({ backend: 'sqlite', file: join(absent, 'sim.db') });
    expect(parseStoreLocation(`sqlite:${absent}/`)).toEqual({ backend: 'sqlite', file: join(absent, 'sim.db') });
    expect(parseStoreLocation('results/')).toEqual({ backend: 'sqlite', file: 'results/sim.db' });
  });

  it('reads an existing folder as its sim.db, with or without sqlite:', () => {
    const folder = join(scratch, 'existing');
    mkdirSync(folder);
    expect(parseStoreLocation(folder)).toEqual({ backend: 'sqlite', file: join(folder, 'sim.db') });
    expect(parseStoreLocation(`sqlite:${folder}`)).toEqual({ backend: 'sqlite', file: join(folder, 'sim.db') });
  });

  it('reads any other path as the database file itself', () => {
    const file = join(scratch, 'mine.db');
    expect(parseStoreLocation(file)).toEqual({ backend: 'sqlite', file });
    writeFileSync(file, '');
    expect(parseStoreLocation(`sqlite:${file}`)).toEqual({ backend: 'sqlite', file });
    expect(parseStoreLocation('sqlite:///abs/path.db')).toEqual({ backend: 'sqlite', file: '/abs/path.db' });
  });

  it('keeps a PostgreSQL URL with its password masked for display', () => {
    expect(parseStoreLocation('postgres://sim:secret@db:5432/sim')).toEqual({ backend: 'postgres', url: 'postgres://sim:secret@db:5432/sim', display: 'postgres://sim:***@db:5432/sim' });
  });
});
