import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './package-root.js';

/** The package version, recorded with every run so results can be traced to the code that made them. */
export const CODE_VERSION: string = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;

/** The commit the build was made from: scripts/build.mjs compiles it in; running from the sources it is not defined. */
declare const __SIM_BUILD__: BuildStamp | undefined;

export interface BuildStamp {
  /** null: the build was made outside a git repository */
  commit: string | null;
  /** the build's sources differed from the commit */
  dirty: boolean;
}

/**
 * What `sim --version` prints: the package version and the git commit the running build was made
 * from ("dirty" when the build's sources had uncommitted changes).
 */
export function versionLine(build: BuildStamp | undefined = typeof __SIM_BUILD__ === 'undefined' ? undefined : __SIM_BUILD__): string {
  if (!build) return `${CODE_VERSION} (running from the TypeScript sources, not a build)`;
  if (!build.commit) return `${CODE_VERSION} (built from commit unknown: no git repository)`;
  return `${CODE_VERSION} (built from commit ${build.commit}${build.dirty ? ', dirty: the sources had uncommitted changes' : ''})`;
}
