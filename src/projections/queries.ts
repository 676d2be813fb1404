import { sql } from 'kysely';
import { conditionRuns, parseExperiment } from '../domain/config.js';
import type { EventStore } from '../events/store.js';

/** Per condition stream: turnout overall and by treatment group, mean final likelihood. */
export interface ConditionSummary {
  stream: string;
  condition: string;
  treatmentSeed: number | null;
  users: number;
  eligible: number;
  voters: number;
  turnout: number | null;
  treated: number;
  turnoutTreated: number | null;
  turnoutUntreated: number | null;
  /** Mean over users who stated a likelihood of the last one they stated (the reference's definition). */
  meanFinalLikelihood: number | null;
  /** Difference from the control condition's figures (null for control itself or without control). */
  likelihoodEffect: number | null;
  turnoutEffect: number | null;
  finished: boolean;
}

export async function conditionSummaries(store: EventStore, runId: number): Promise<ConditionSummary[]> {
  // Streams in the config's order of conditions, not by name.
  const order = conditionRuns(parseExperiment((await store.getRun(runId)).config)).map((c) => c.stream);
  const rank = (name: string) => (order.indexOf(name) === -1 ? order.length : order.indexOf(name));
  const streams = (await store.runStreams(runId)).filter((s) => s.name !== 'warmup').sort((a, b) => rank(a.name) - rank(b.name));
  const out: ConditionSummary[] = [];
  for (const s of streams) {
    const row = await store.db
      .selectFrom('proj_agents')
      .where('stream_id', '=', s.streamId)
      .select([
        sql<number>`count(*)`.as('users'),
        sql<number>`sum(eligible)`.as('eligible'),
        sql<number>`sum(case when eligible = 1 and voted = 1 then 1 else 0 end)`.as('voters'),
        sql<number>`sum(case when eligible = 1 and treated = 1 then 1 else 0 end)`.as('treated'),
        sql<number>`sum(case when eligible = 1 and treated = 1 and voted = 1 then 1 else 0 end)`.as('treated_voters'),
        sql<number | null>`avg(last_likelihood)`.as('mean_likelihood'),
      ])
      .executeTakeFirstOrThrow();
    const started = await store.db
      .selectFrom('events')
      .select('payload')
      .where('stream_id', '=', s.streamId)
      .where('type', '=', 'StageStarted')
      .executeTakeFirst();
    const meta = started ? (JSON.parse(started.payload) as { condition: string | null; treatmentSeed: number | null }) : null;
    const eligible = Number(row.eligible ?? 0);
    const voters = Number(row.voters ?? 0);
    const treated = Number(row.treated ?? 0);
    const treatedVoters = Number(row.treated_voters ?? 0);
    out.push({
      stream: s.name,
      condition: meta?.condition ?? s.name,
      treatmentSeed: meta?.treatmentSeed ?? null,
      users: Number(row.users),
      eligible,
      voters,
      turnout: ratio(voters, eligible),
      treated,
      turnoutTreated: ratio(treatedVoters, treated),
      turnoutUntreated: ratio(voters - treatedVoters, eligible - treated),
      meanFinalLikelihood: row.mean_likelihood === null ? null : Number(row.mean_likelihood),
      likelihoodEffect: null,
      turnoutEffect: null,
      finished: store.lastEventType(s.streamId) === 'StageCompleted',
    });
  }
  const control = out.find((s) => s.condition === 'control');
  if (control) {
    for (const s of out) {
      if (s === control) continue;
      s.likelihoodEffect = diff(s.meanFinalLikelihood, control.meanFinalLikelihood);
      s.turnoutEffect = diff(s.turnout, control.turnout);
    }
  }
  return out;
}

function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}

function diff(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a - b;
}
