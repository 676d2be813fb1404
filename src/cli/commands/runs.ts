import type { Command } from 'commander';
import { IntegrityError } from '../../errors.js';
import { EventStore } from '../../events/store.js';
import { DEFAULT_OUT } from '../options.js';
import { printTable } from '../table.js';

/** What `sim runs` found about a run's hash chains. */
export interface ChainStatus {
  /** "heads": stored heads against the events (cheap, every time); "events": every hash recomputed (--verify). */
  checked: 'heads' | 'events';
  ok: boolean;
  problem: string | null;
}

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('list the runs recorded in an output directory: id, seed, status, events, fingerprint, and whether their stored heads match their events')
    .option('--out <dir>', 'output directory holding sim.db', DEFAULT_OUT)
    .option('--json', 'print JSON instead of a table')
    .option('--verify', 'recompute every hash chain instead of checking the heads (seconds per million events)')
    .action(async (opts: { out: string; json?: boolean; verify?: boolean }) => {
      const store = await EventStore.openExisting(opts.out);
      const runs: Array<Awaited<ReturnType<EventStore['listRuns']>>[number] & { chains: ChainStatus }> = [];
      try {
        if (store) {
          for (const run of await store.listRuns()) runs.push({ ...run, chains: await chainStatus(store, run.id, opts.verify ?? false) });
        }
      } finally {
        await store?.close();
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
      } else if (runs.length === 0) {
        process.stdout.write(`no runs in ${opts.out}\n`);
      } else {
        printTable(
          ['id', 'seed', 'status', 'last round', 'events', 'fell back', 'fingerprint', 'chains'],
          runs.map((r) => [r.id, r.seed, r.status, r.lastRound ?? '-', r.events, r.fellBack, r.fingerprint.slice(0, 16), r.chains.ok ? (r.chains.checked === 'events' ? 'verified' : 'ok') : 'BROKEN']),
        );
      }
      // Said on stderr too, so a script reading the JSON or a glance at the table cannot miss it.
      for (const r of runs) if (!r.chains.ok) process.stderr.write(`sim: run ${r.id}: ${r.chains.problem} (its fingerprint is not trustworthy; \`sim project ${r.id} --out ${opts.out}\` names the first bad event)\n`);
    });
}

async function chainStatus(store: EventStore, runId: number, verify: boolean): Promise<ChainStatus> {
  const streams = (await store.runStreams(runId)).map((s) => s.streamId);
  if (!verify) {
    for (const stream of streams) {
      const problem = store.headMismatch(stream);
      if (problem) return { checked: 'heads', ok: false, problem };
    }
    return { checked: 'heads', ok: true, problem: null };
  }
  try {
    store.verifyStreams(streams);
    return { checked: 'events', ok: true, problem: null };
  } catch (error) {
    if (error instanceof IntegrityError) return { checked: 'events', ok: false, problem: error.message };
    throw error;
  }
}
