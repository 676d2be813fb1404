import { describe, expect, it } from 'vitest';
import type { Persona } from '../../domain/persona.js';
import { personaLines } from './show.js';

const persona: Persona = {
  id: 42,
  age: 34,
  sex: 'Female',
  race: 'White',
  education: 'Bachelors',
  occupation: 'Teacher',
  workclass: 'Private',
  maritalStatus: 'Married-civ-spouse',
  relationship: 'Wife',
  nativeCountry: 'United-States',
  hoursPerWeek: 40,
  politicalStance: 'liberal',
  interests: ['gardening', 'local politics'],
  closeFriends: [],
  publicProfile: 'I teach fourth grade.',
  workSchedule: 'full-time standard',
  tier: 'low',
  model: 'gpt-4.1-nano',
};

describe('personaLines', () => {
  it('prints every field but the id as an aligned label and value, lists joined, empty lists as (none)', () => {
    expect(personaLines(persona)).toEqual([
      'persona of user 42:',
      '  age               34',
      '  sex               Female',
      '  race              White',
      '  education         Bachelors',
      '  occupation        Teacher',
      '  workclass         Private',
      '  marital status    Married-civ-spouse',
      '  relationship      Wife',
      '  native country    United-States',
      '  hours per week    40',
      '  political stance  liberal',
      '  interests         gardening, local politics',
      '  close friends     (none)',
      '  public profile    I teach fourth grade.',
      '  work schedule     full-time standard',
      '  tier              low',
      '  model             gpt-4.1-nano',
    ]);
  });
});
