import { rng, type Rng } from '../rng.js';
import censusTables from './census-tables.json' with { type: 'json' };
import { ageBand, PreparedTables, type CensusTables } from './tables.js';
import type { ProfileRow, UserFiles } from './types.js';
import { generateNetwork, type NetworkOptions } from './network.js';

/**
 * The default population generator: census-grounded personas (tables derived from the 1994 Census
 * extract) plus a Twitter-like follower network. Pure: the same options give the same users and
 * edges, byte for byte, on any machine.
 */
export const INTERESTS = [
  'Politics',
  'Technology',
  'Sports',
  'Entertainment',
  'Health',
  'Science',
  'Business',
  'Education',
  'Travel',
  'Food',
  'Environment',
  'Music',
  'Art',
  'Gaming',
] as const;

export const STANCES = ['very liberal', 'liberal', 'slightly liberal', 'moderate', 'slightly conservative', 'conservative', 'very conservative'] as const;

export interface GeneratorOptions extends Partial<NetworkOptions> {
  n: number;
  seed: number;
  /**
   * Share of users aged 13-17. The census extract starts at 17; the reference population had
   * minors, who are never treated and cannot vote. 8% is close to the teen share of US social
   * media users in the reference's period.
   */
  minorShare?: number;
  /** Share of users with Politics among their interests. */
  politicsShare?: number;
}

const DEFAULT_MINOR_SHARE = 0.08;
const DEFAULT_POLITICS_SHARE = 0.55;

const PREPARED = new PreparedTables(censusTables as CensusTables);
const MINOR_EDUCATION: Record<number, string> = { 13: '7th-8th', 14: '9th', 15: '10th', 16: '11th', 17: '12th' };

export function generatePopulation(options: GeneratorOptions): UserFiles {
  const { n, seed } = options;
  const profiles: ProfileRow[] = [];
  for (let id = 0; id < n; id++) profiles.push(generateProfile(id, seed, options));
  const sides = profiles.map((p) => stanceSide(p.politicalStance));
  const follows = generateNetwork(n, sides, rng(seed, 'population', 0, 0, 'network'), options);
  addCloseFriends(profiles, follows, seed);
  return { profiles, follows, source: `generated (n=${n}, seed=${seed})` };
}

function generateProfile(id: number, seed: number, options: GeneratorOptions): ProfileRow {
  const r = rng(seed, 'population', 0, id, 'profile');
  const minor = r.next() < (options.minorShare ?? DEFAULT_MINOR_SHARE);
  const sex = PREPARED.sex.draw(r);
  const race = PREPARED.race.draw(r);
  const nativeCountry = PREPARED.nativeCountry.draw(r);
  let age: number;
  let education: string;
  let occupation: string;
  let workclass: string;
  let maritalStatus: string;
  let relationship: string;
  let hoursPerWeek: number;
  if (minor) {
    age = r.int(13, 17);
    education = MINOR_EDUCATION[age];
    occupation = 'Student';
    workclass = age >= 16 && r.next() < 0.3 ? 'Private' : 'Never-worked';
    maritalStatus = 'Never-married';
    relationship = 'Own-child';
    hoursPerWeek = workclass === 'Private' ? r.int(5, 20) : 0;
  } else {
    age = Number(PREPARED.age.draw(r));
    education = PREPARED.conditional('educationByAgeBand', ageBand(age)).draw(r);
    [occupation, workclass] = PREPARED.conditional('jobByEducation', education).draw(r).split('|');
    [maritalStatus, relationship] = PREPARED.conditional('familyByAgeBandSex', `${ageBand(age)}|${sex}`).draw(r).split('|');
    hoursPerWeek = Number(PREPARED.conditional('hoursByOccupation', occupation).draw(r));
  }
  const politicalStance = drawStance(age, education, sex, r);
  const interests = drawInterests(options.politicsShare ?? DEFAULT_POLITICS_SHARE, r);
  return {
    userId: id,
    age,
    sex,
    race,
    education,
    occupation,
    workclass,
    maritalStatus,
    relationship,
    nativeCountry,
    hoursPerWeek,
    politicalStance,
    interests,
    closeFriends: [],
    publicProfile: publicProfile(age, occupation, nativeCountry, politicalStance, interests),
  };
}

const COLLEGE = new Set(['Bachelors', 'Masters', 'Doctorate', 'Prof-school']);

/** A left-right lean shaped by age, education and sex, cut into the seven stance labels. */
function drawStance(age: number, education: string, sex: string, r: Rng): string {
  const normal = Math.sqrt(-2 * Math.log(1 - r.next())) * Math.cos(2 * Math.PI * r.next());
  const lean = (age >= 50 ? 0.3 : age < 30 ? -0.3 : 0) + (COLLEGE.has(education) ? -0.25 : 0) + (sex === 'Male' ? 0.15 : -0.1) + 1.1 * normal;
  const cuts = [-1.6, -0.9, -0.35, 0.35, 0.9, 1.6];
  const index = cuts.findIndex((c) => lean < c);
  return STANCES[index === -1 ? STANCES.length - 1 : index];
}

/** -1 liberal, 0 moderate, +1 conservative: the side homophily is about. */
export function stanceSide(stance: string): number {
  const s = stance.toLowerCase();
  if (s.includes('liberal')) return -1;
  if (s.includes('conservative')) return 1;
  return 0;
}

function drawInterests(politicsShare: number, r: Rng): string[] {
  const count = r.int(2, 4);
  const withPolitics = r.next() < politicsShare;
  const others = INTERESTS.filter((i) => i !== 'Politics');
  const picked = r.sample(others, withPolitics ? count - 1 : count);
  return withPolitics ? ['Politics', ...picked] : picked;
}

function publicProfile(age: number, occupation: string, country: string, stance: string, interests: string[]): string {
  const work = occupation === 'Student' ? 'student' : `works in ${occupation.toLowerCase().replace(/-/g, ' ')}`;
  const topics = interests.length > 1 ? `${interests.slice(0, -1).join(', ')} and ${interests[interests.length - 1]}` : interests[0];
  return `${age}, ${work}, from ${country.replace(/-/g, ' ')}; ${stance}; posts about ${topics}.`;
}

/** Close friends: up to three users each follows and is followed by (mutual follows), at random. */
function addCloseFriends(profiles: ProfileRow[], follows: Array<[number, number]>, seed: number): void {
  const out = new Map<number, Set<number>>();
  for (const [s, t] of follows) {
    let set = out.get(s);
    if (!set) out.set(s, (set = new Set()));
    set.add(t);
  }
  for (const p of profiles) {
    const mutual = [...(out.get(p.userId) ?? [])].filter((t) => out.get(t)?.has(p.userId)).sort((a, b) => a - b);
    p.closeFriends = rng(seed, 'population', 0, p.userId, 'close-friends').sample(mutual, 3).sort((a, b) => a - b);
  }
}
