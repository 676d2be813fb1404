import type { ExperimentConfig } from './config.js';
import type { Rng } from './rng.js';

/**
 * Activity scheduling (docs/protocol.md, "Time"): each user acts only in the round equal to its next
 * activity round. Initially start + uniform{min..max}; after acting, the agent proposes t in
 * min..max (anything else: uniform min..max instead) and next = round + t + uniform{0..1+t}.
 */
export function initialNextActivity(startRound: number, activity: ExperimentConfig['activity'], random: Rng): number {
  return startRound + random.int(activity.min_interval, activity.max_interval);
}

export interface Scheduled {
  nextRound: number;
  /** The usable proposal, or null when the agent's proposal was missing or out of range. */
  proposed: number | null;
}

export function nextActivity(round: number, proposal: unknown, activity: ExperimentConfig['activity'], random: Rng): Scheduled {
  const usable =
    typeof proposal === 'number' && Number.isInteger(proposal) && proposal >= activity.min_interval && proposal <= activity.max_interval;
  const t = usable ? (proposal as number) : random.int(activity.min_interval, activity.max_interval);
  return { nextRound: round + t + random.int(0, 1 + t), proposed: usable ? (proposal as number) : null };
}
