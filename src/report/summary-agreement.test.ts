import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordRun } from '../api/index.js';
import { parseExperiment } from '../domain/config.js';
import { EventStore } from '../sim/store.js';
import { readRunData } from '../export/run-data.js';
import { conditionSummaries, type ConditionSummary } from '../projections/queries.js';
import { buildReport, type ConditionFigures } from './build.js';

/**
 * `sim run` prints its summary from the projections; the report computes its figures from the run
 * data it reads. Both go through src/domain/outcomes.ts, and on a recorded run they agree exactly.
 */
describe("sim run's summary and the report", () => {
  let dir: string;
  let printed: ConditionSummary[];
  let reported: ConditionFigures[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sim-summary-'));
    // All five conditions of the reference, two of them mixed (some users treated, some not).
    const config = parseExperiment({ n_users: 120, seed: 3 });
    const run = await recordRun({ out: dir, config });
    const store = await EventStore.open(dir);
    try {
      printed = await conditionSummaries(store, run.runId);
      reported = buildReport(await readRunData(store, run.runId), run.fingerprint, [], null).conditions;
    } finally {
      await store.close();
    }
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('give every condition the same turnout, treatment counts and mean final likelihood', () => {
    expect(printed.map((s) => s.stream)).toEqual(reported.map((f) => f.stream));
    expect(printed.length).toBeGreaterThanOrEqual(3);
    const fields = ['eligible', 'voters', 'turnout', 'treated', 'turnoutTreated', 'turnoutUntreated', 'meanFinalLikelihood'] as const;
    for (const [i, s] of printed.entries()) {
      for (const field of fields) expect([s.stream, field, s[field]]).toEqual([s.stream, field, reported[i][field]]);
    }
    // The run is not degenerate: someone voted, someone was treated and someone was not.
    expect(printed.some((s) => s.treated > 0 && s.treated < s.eligible)).toBe(true);
    expect(printed.every((s) => s.voters > 0 && s.meanFinalLikelihood !== null)).toBe(true);
  });
});
