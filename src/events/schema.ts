import type { Generated } from 'kysely';

/** The database as kysely sees it. Migrations in migrations/ create exactly these tables. */
export interface RunsTable {
  id: Generated<number>;
  created_at: string;
  seed: number;
  config: string;
  code_version: string;
  status: string;
}

export interface StreamsTable {
  stream_id: string;
  run_id: number;
  /** The stream's name inside its run ("warmup", "control", "experiment_info_message/2"...). */
  name: string;
  last_position: number;
  last_hash: string;
}

export interface EventsTable {
  position: Generated<number>;
  stream_id: string;
  stream_position: number;
  round: number;
  type: string;
  agent_id: number | null;
  payload: string;
  schema_version: number;
  hash: string;
}

export interface LlmCacheTable {
  key: string;
  model: string;
  response: string;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  created_at: string;
}

export interface ProjPersonasTable {
  run_id: number;
  agent_id: number;
  age: number;
  persona: string;
}

export interface ProjAgentsTable {
  stream_id: string;
  agent_id: number;
  eligible: number;
  following: number;
  followers: number;
  liked: number;
  replied: number;
  posted: number;
  seen: number;
  last_likelihood: number | null;
  treated: number;
  voted: number | null;
}

export interface ProjAgentRoundsTable {
  stream_id: string;
  agent_id: number;
  round: number;
  active: number;
  likelihood: number | null;
  engagement: number;
}

export interface ProjTreatmentTable {
  stream_id: string;
  agent_id: number;
  period: number;
  message: string;
}

export interface RunLeasesTable {
  run_id: number;
  host: string;
  pid: number;
  acquired_at: string;
  /** Added by migration 0005; null in a row written before it. */
  heartbeat_at: string | null;
}

/** A run's LLM spend in USD (migrations/0006_run_spend.ts). */
export interface RunSpendTable {
  run_id: number;
  spent_usd: number;
}

export interface Database {
  run_leases: RunLeasesTable;
  run_spend: RunSpendTable;
  proj_personas: ProjPersonasTable;
  proj_agents: ProjAgentsTable;
  proj_agent_rounds: ProjAgentRoundsTable;
  proj_treatment: ProjTreatmentTable;
  runs: RunsTable;
  streams: StreamsTable;
  events: EventsTable;
  llm_cache: LlmCacheTable;
}

