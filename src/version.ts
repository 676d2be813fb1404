import { readFileSync } from 'node:fs';

/** The package version, recorded with every run so results can be traced to the code that made them. */
export const CODE_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;
