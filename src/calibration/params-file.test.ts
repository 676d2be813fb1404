import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KNOWN } from '../../test/support/known-offline-params.js';
import { readParamsFile } from './params-file.js';

const dir = mkdtempSync(join(tmpdir(), 'sim-params-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, parameters: object) => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ format: 'sim-offline-params/1', parameters }));
  return file;
};

describe('readParamsFile', () => {
  it('reads every parameter of a file', () => {
    expect(readParamsFile(write('full.json', KNOWN))).toEqual(KNOWN);
  });

  it('reads a file written before reconsiderDownMessage and reconsiderOneTwo existed as the model without them (1)', () => {
    const { reconsiderDownMessage: _, reconsiderOneTwo: __, ...older } = KNOWN;
    expect(readParamsFile(write('older.json', older))).toEqual({ ...KNOWN, reconsiderDownMessage: 1, reconsiderOneTwo: 1 });
  });

  it('refuses a factor outside 0-1, naming the file', () => {
    const file = write('bad.json', { ...KNOWN, reconsiderDownMessage: 1.5 });
    expect(() => readParamsFile(file)).toThrow(new RegExp(`--offline-params ${file}.*reconsiderDownMessage`));
  });
});
