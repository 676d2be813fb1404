import type { Persona } from '../persona.js';

/**
 * A row of profiles.csv (the reference's columns), as loaded and validated: a persona's fields
 * (the one schema, in ../persona.ts) under the file's user id, before a run draws its tier and
 * model; the file may give a model and a work schedule.
 */
export type ProfileRow = Omit<Persona, 'id' | 'tier' | 'model' | 'workSchedule'> & {
  userId: number;
  model?: string;
  workSchedule?: string;
};

/** A population: profiles plus directed follow edges (source follows target). */
export interface UserFiles {
  profiles: ProfileRow[];
  follows: Array<[number, number]>;
  source: string;
}
