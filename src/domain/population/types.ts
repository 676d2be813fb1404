/** A row of profiles.csv (the reference's columns), as loaded and validated. */
export interface ProfileRow {
  userId: number;
  age: number;
  sex: string;
  race: string;
  education: string;
  occupation: string;
  workclass: string;
  maritalStatus: string;
  relationship: string;
  nativeCountry: string;
  hoursPerWeek: number;
  politicalStance: string;
  interests: string[];
  closeFriends: number[];
  publicProfile: string;
  model?: string;
  workSchedule?: string;
}

/** A population: profiles plus directed follow edges (source follows target). */
export interface UserFiles {
  profiles: ProfileRow[];
  follows: Array<[number, number]>;
  source: string;
}
