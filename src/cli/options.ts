import { Option, type Command } from 'commander';
import { DEFAULT_OUT } from '../api/defaults.js';
import { urlProblem } from '../domain/url.js';
import { UsageError } from '../errors.js';

/**
 * The flags several commands share, parsed in one place: integers, the output folder, the LLM
 * serving flags (run, resume, replay) and --offline-params. Commands import these, never each other.
 */

export { DEFAULT_OUT };

/** A commander argument parser for an integer flag, optionally with a lower bound. */
export function integerFlag(flag: string, min?: number) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`${flag}: "${value}" is not an integer`);
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new UsageError(`${flag}: ${value.trim()} is too large (at most ${n < 0 ? '-' : ''}${Number.MAX_SAFE_INTEGER})`);
    if (min !== undefined && n < min) throw new UsageError(`${flag}: must be at least ${min} (got ${n})`);
    return n;
  };
}

/** --out of a command that reads an output directory. */
export function addOutOption(command: Command, description = 'output directory holding sim.db'): Command {
  return command.option('--out <dir>', description, DEFAULT_OUT);
}

/** The flags that describe an experiment (sim run, sim submit, sim sweep). */
export function addExperimentOptions(command: Command): Command {
  return command
    .option('--config <file>', 'experiment config (JSON); flags override it')
    .option('--n-users <n>', 'users sampled from the population (default 1000)', integerFlag('--n-users'))
    .option('--seed <n>', 'simulation seed (default 1)', integerFlag('--seed'))
    .option('--treatment-seed <n>', 'treatment assignment seed (default: the simulation seed)', integerFlag('--treatment-seed'))
    .option('--conditions <list>', 'comma-separated conditions to run (default: the five of the reference)')
    .option('--feed-length <n>', 'posts per feed (default 4)', integerFlag('--feed-length'))
    .option('--num-contents <n>', 'initial posts before the warmup (default 20)', integerFlag('--num-contents'))
    .option('--topic <topic>', 'the run topic (default Politics)')
    .option('--users-dir <dir>', 'folder with profiles.csv and network.csv (default: the bundled users_data/)')
    .option('--provider <name>', 'offline | openai (default: offline, even with an API key set; openai with --base-url or a config naming it); --provider openai also agrees to spend what the estimate says')
    .option('--max-cost <usd>', 'stop at a round boundary before the run\'s LLM spend would pass this many USD (config llm.max_cost_usd); `sim resume --max-cost MORE` continues', parseUsd)
    .option('--yes', 'spend what the estimate of a paid LLM run says without asking (needed without a terminal unless --provider openai is given)')
    .addOption(offlineParamsOption());
}

/** "5", "5.50" or "$5" as USD, at least 0. */
export function parseUsd(value: string): number {
  const m = /^\s*\$?\s*(\d+(?:\.\d+)?)\s*$/.exec(value);
  if (!m) throw new UsageError(`--max-cost: "${value}" is not an amount in USD (e.g. 5 or 12.50)`);
  return Number(m[1]);
}

export const offlineParamsOption = () =>
  new Option('--offline-params <file>', 'offline model parameters fitted by `sim calibrate` (default: the built-in ones); the run records them, so replay uses them');

/**
 * The LLM serving flags shared by run, resume and replay. Where requests go (endpoints) and how long
 * an outage may last are not part of a run's identity, so every command that calls a server takes
 * them; models and sampling settings are in the recorded config and never change on resume.
 */
export function addLlmOptions(command: Command): Command {
  return command
    .option('--base-url <url>', 'an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1; repeat for several (default: the run\'s config, base_url or llm.endpoints; `sim run` also reads OPENAI_BASE_URL)', collectUrl, undefined)
    .option('--max-outage <duration>', 'how long the LLM servers may give no answer before the run stops cleanly (exit code 3), e.g. 30s, 10m (default 10m)', parseDuration)
    .option('--max-fallback-rate <rate>', 'stop when more of a stream\'s decisions than this fell back, e.g. 2% (default 2%; 100% never stops)', parseRate);
}

function collectUrl(value: string, previous: string[] | undefined): string[] {
  const problem = urlProblem(value);
  if (problem) throw new UsageError(`--base-url: ${problem}`);
  return [...(previous ?? []), value];
}

/** "30s", "10m", "1h", "500ms" in milliseconds. */
export function parseDuration(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value);
  if (!m) throw new UsageError(`--max-outage: "${value}" is not a duration (e.g. 30s, 10m, 1h)`);
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  if (ms < 1000) throw new UsageError(`--max-outage: must be at least 1s (got ${value})`);
  return ms;
}

/** "2%" or "0.02" as a share in [0, 1]. */
export function parseRate(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(value);
  const rate = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(rate >= 0 && rate <= 1)) throw new UsageError(`--max-fallback-rate: "${value}" is not a share between 0% and 100% (e.g. 2% or 0.02)`);
  return rate;
}

