import { conditionRuns, parseExperiment } from '../domain/config.js';
import { conditionTotals, type ConditionTotals } from '../domain/outcomes.js';
import type { SimEvent } from '../domain/events.js';
import type { Store } from '../events/port.js';

/** Per condition stream: turnout overall and by treatment group, mean final likelihood (src/domain/outcomes.ts). */
export type ConditionSummary = Pick<ConditionTotals, 'users' | 'eligible' | 'voters' | 'turnout' | 'treated' | 'turnoutTreated' | 'turnoutUntreated' | 'meanFinalLikelihood'> & {
  stream: string;
  condition: string;
  treatmentSeed: number | null;
  /** Difference from the control condition's figures (null for control itself or without control). */
  likelihoodEffect: number | null;
  turnoutEffect: number | null;
  finished: boolean;
};

export async function conditionSummaries(store: Store<SimEvent>, runId: number): Promise<ConditionSummary[]> {
  // Streams in the config's order of conditions, not by name.
  const order = conditionRuns(parseExperiment((await store.getRun(runId)).config)).map((c) => c.stream);
  const rank = (name: string) => (order.indexOf(name) === -1 ? order.length : order.indexOf(name));
  const streams = (await store.runStreams(runId)).filter((s) => s.name !== 'warmup').sort((a, b) => rank(a.name) - rank(b.name));
  const out: ConditionSummary[] = [];
  for (const s of streams) {
    // Each user's outcome, summed by the one implementation the report uses too.
    const agents = await store.projectedAgents(s.streamId);
    const totals = conditionTotals(agents.map((a) => ({ eligible: a.eligible === 1, treated: a.treated === 1, voted: a.voted === 1, finalLikelihood: a.lastLikelihood })));
    let started: { payload: string } | undefined;
    for await (const page of store.eventsOfTypes(s.streamId, ['StageStarted'])) {
      started = page[0];
      break;
    }
    const meta = started ? (JSON.parse(started.payload) as { condition: string | null; treatmentSeed: number | null }) : null;
    out.push({
      stream: s.name,
      condition: meta?.condition ?? s.name,
      treatmentSeed: meta?.treatmentSeed ?? null,
      users: totals.users,
      eligible: totals.eligible,
      voters: totals.voters,
      turnout: totals.turnout,
      treated: totals.treated,
      turnoutTreated: totals.turnoutTreated,
      turnoutUntreated: totals.turnoutUntreated,
      meanFinalLikelihood: totals.meanFinalLikelihood,
      likelihoodEffect: null,
      turnoutEffect: null,
      finished: (await store.lastEventType(s.streamId)) === 'StageCompleted',
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

function diff(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a - b;
}
