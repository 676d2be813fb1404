import { UsageError } from '../errors.js';
import { maskPassword, parseStoreLocation } from '../events/open-store.js';
import { copyRuns, planCopy, type CopyResult } from '../sim/copy.js';
import { EventStore } from '../sim/store.js';
import { checkLocationWritable } from './store.js';

export type { CopyResult } from '../sim/copy.js';

export interface CopyOptions {
  /** The source store: a database file, an output directory, sqlite:PATH or postgres://... */
  from: string;
  /** The target store (created when absent). */
  to: string;
  /** Run ids as typed (default: every run of the source). */
  runs?: string[];
}

/**
 * `sim copy`: copies runs and the LLM cache from one store to another (src/sim/copy.ts). Everything
 * to copy is verified before the target is opened or created; `onStores` hears both stores' names
 * (passwords masked) before anything is written.
 */
export async function copyStore(options: CopyOptions, onRun?: (r: CopyResult) => void, onStores?: (stores: { from: string; to: string }) => void): Promise<{ from: string; to: string; runs: CopyResult[] }> {
  const runIds =
    !options.runs || options.runs.length === 0
      ? null
      : options.runs.map((a) => {
          const id = Number(a);
          if (!Number.isInteger(id) || id < 1) throw new UsageError(`RUN: "${a}" is not a run id (see \`sim runs\`)`);
          return id;
        });
  const fromLocation = parseStoreLocation(options.from, '--from');
  const toLocation = parseStoreLocation(options.to, '--to');
  checkLocationWritable(toLocation, '--to', options.to);
  const from = await EventStore.existing(fromLocation, { readOnly: true });
  if (!from) throw new UsageError(`--from ${maskPassword(options.from)}: holds no sim store`);
  try {
    const plan = await planCopy(from, runIds);
    const to = await EventStore.at(toLocation);
    try {
      onStores?.({ from: from.location, to: to.location });
      const runs = await copyRuns(from, to, plan, onRun);
      return { from: from.location, to: to.location, runs };
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
}
