import { stringify } from 'csv-stringify/sync';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { EventStore } from '../sim/store.js';
import { checkFolderTarget, folderHasContent, writeFolderWhole, type Named } from '../write-whole.js';
import { finalNetwork, periodFor, readRunData, type ConditionData, type RunData } from './run-data.js';
import { activityMatrix, engagementMatrix, graphml, matrixRecords, PERSONA_COLUMNS, personaRecord, treatmentMatrix, votingMatrix } from './tables.js';

export interface ExportResult {
  folders: string[];
  missing: string[];
}

/**
 * Writes a run in the reference's layout: <to>/<condition>/<condition>_{voting,treatment,activity,
 * engagement}_data.csv, _personas.csv, _network.csv and .graphml, plus population_summary.txt. A
 * condition repeated over treatment seeds gets one folder per seed (seed_<ts>/<condition>/), as the
 * reference did. Everything is written into a temporary folder first and renamed into place, so an
 * export is whole or absent.
 */
export async function exportRunCsv(store: EventStore, runId: number, to: string, force: boolean, named: Named = { flag: '--to', path: to }): Promise<ExportResult> {
  checkFolderTarget(to, named);
  if (folderHasContent(to) && !force) throw new UsageError(`${named.flag} ${named.path}: the folder is not empty (use --force to replace it)`);
  const data = await readRunData(store, runId);
  const folders: string[] = [];
  // Folded before the folder is written (writing is synchronous, beside its final name).
  const networks = new Map<string, Array<[number, number]>>();
  for (const c of data.conditions) networks.set(c.stream, await finalNetwork(store, runId, data, c));
  writeFolderWhole(
    to,
    (staging) => {
      const repeated = new Set(data.conditions.filter((c) => c.stream.includes('/')).map((c) => c.condition));
      for (const c of data.conditions) {
        const relative = repeated.has(c.condition) ? join(`seed_${c.treatmentSeed}`, c.condition) : c.condition;
        writeCondition(data, c, networks.get(c.stream)!, join(staging, relative));
        folders.push(relative);
      }
      writeFileSync(join(staging, 'population_summary.txt'), populationSummary(data));
    },
    named,
  );
  return { folders, missing: data.missing };
}

function writeCondition(data: RunData, c: ConditionData, edges: ReadonlyArray<[number, number]>, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const name = c.condition;
  const csv = (file: string, records: string[][]) => writeFileSync(join(dir, file), stringify(records));
  csv(`${name}_voting_data.csv`, matrixRecords(votingMatrix(c.users, c.rounds, c.rows), true));
  csv(`${name}_treatment_data.csv`, matrixRecords(treatmentMatrix(c.users, c.rounds, c.treated, periodFor(data.config)), false));
  csv(`${name}_activity_data.csv`, matrixRecords(activityMatrix(c.users, c.rounds, c.rows), false));
  csv(`${name}_engagement_data.csv`, matrixRecords(engagementMatrix(c.users, c.rounds, c.rows), false));
  const zero = { following: 0, followers: 0, liked: 0, replied: 0, seen: 0, treated: 0, voted: null };
  csv(`${name}_personas.csv`, [[...PERSONA_COLUMNS], ...c.users.map((u) => personaRecord(data.personas.get(u)!, c.counts.get(u) ?? zero, c.message))]);
  csv(`${name}_network.csv`, [['source', 'target'], ...edges.map(([s, t]) => [String(s), String(t)])]);
  writeFileSync(join(dir, `${name}_network.graphml`), graphml(c.users, edges));
}

function populationSummary(data: RunData): string {
  const personas = [...data.personas.values()];
  const share = (pick: (p: (typeof personas)[number]) => string) => {
    const counts = new Map<string, number>();
    for (const p of personas) counts.set(pick(p), (counts.get(pick(p)) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `  ${k}: ${v} (${((100 * v) / personas.length).toFixed(1)}%)`).join('\n');
  };
  return [
    `Population of run ${data.runId}: ${personas.length} users (seed ${data.config.seed})`,
    `Users 18+: ${personas.filter((p) => p.age >= 18).length}; under 18: ${personas.filter((p) => p.age < 18).length}`,
    `Mean age: ${(personas.reduce((s, p) => s + p.age, 0) / personas.length).toFixed(1)}`,
    'Sex:',
    share((p) => p.sex),
    'Political stance:',
    share((p) => p.politicalStance),
    'Education:',
    share((p) => p.education),
    'LLM model:',
    share((p) => p.model),
    '',
  ].join('\n');
}
