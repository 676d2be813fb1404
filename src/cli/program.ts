import { Command } from 'commander';
import { versionLine } from '../version.js';
import { addStoreOptions, checkOutAgainstEnvStore } from './store-option.js';

type Register = (program: Command) => void;

/**
 * Every command, in the order help lists them: how the top-level help shows it, and the module that
 * registers it. Only the command being run is loaded (the modules pull in the store, the engine,
 * vega, openai); the others are listed from this table, so `sim --help` and `sim runs` do not pay for
 * them. test/cli-startup.test.ts checks each entry against what its module registers.
 */
export const COMMANDS: ReadonlyArray<{ name: string; term: string; description: string; load: () => Promise<Register> }> = [
  { name: 'run', term: 'run [options]', description: 'run an experiment (default: the reference protocol on 1,000 users, offline)', load: async () => (await import('./commands/run.js')).registerRun },
  { name: 'resume', term: 'resume [options] [run]', description: 'continue an interrupted run from its last complete round (the cache answers what was already paid for)', load: async () => (await import('./commands/resume.js')).registerResume },
  { name: 'replay', term: 'replay [options]', description: 're-execute a recorded run from its stored config and cached answers and compare every event; with --new-run, run its config under another --seed as a new run', load: async () => (await import('./commands/replay.js')).registerReplay },
  { name: 'project', term: 'project [options] [run]', description: "verify a run's hash chains and (with --rebuild) drop and rebuild its projections from the events", load: async () => (await import('./commands/project.js')).registerProject },
  { name: 'export', term: 'export', description: "write a run's data for analysis", load: async () => (await import('./commands/export.js')).registerExport },
  { name: 'show', term: 'show', description: 'show recorded detail', load: async () => (await import('./commands/show.js')).registerShow },
  { name: 'report', term: 'report [options] [runs...]', description: 'write report.html (self-contained, charts as SVG) and report.json: turnout, likelihood, effects paired and unpaired with 95% intervals, spillovers by exposure, effects by persona attribute; several runs of one config are pooled over their seeds', load: async () => (await import('./commands/report.js')).registerReport },
  { name: 'plan', term: 'plan [options]', description: 'how many users and seeds an effect needs for a given power, and what that costs in LLM calls; --check K verifies by K offline replications', load: async () => (await import('./commands/plan.js')).registerPlan },
  { name: 'runs', term: 'runs [options]', description: 'list the runs recorded in an output directory: id, seed, status, events, fingerprint, and whether their stored heads match their events', load: async () => (await import('./commands/runs.js')).registerRuns },
  { name: 'users', term: 'users', description: 'generate and inspect populations (profiles.csv + network.csv)', load: async () => (await import('./commands/users.js')).registerUsers },
  { name: 'copy', term: 'copy [options] [runs...]', description: 'copy recorded runs (events, streams, runs, the LLM cache) between stores, verifying every hash chain; the copy has the same fingerprint', load: async () => (await import('./commands/copy.js')).registerCopy },
  { name: 'calibrate', term: 'calibrate [options]', description: "fit the offline model's likelihood parameters to a folder in the reference's layout (the reference's data, or `sim export csv` of your own LLM pilot) and write a parameter file for `sim run --offline-params`", load: async () => (await import('./commands/calibrate.js')).registerCalibrate },
  { name: 'submit', term: 'submit [options]', description: 'record a run in a PostgreSQL store and enqueue it for `sim worker` processes; prints the run id and returns at once', load: async () => (await import('./commands/submit.js')).registerSubmit },
  { name: 'sweep', term: 'sweep [options]', description: 'submit one run per seed x setting to a PostgreSQL store for `sim worker` (e.g. --seeds 1-3 --grid messages.likely_voter_threshold=3,4); --list lists the sweeps', load: async () => (await import('./commands/sweep.js')).registerSweep },
  { name: 'worker', term: 'worker [options]', description: "take jobs (a run's warmup, its conditions) from a PostgreSQL store and execute them until stopped", load: async () => (await import('./commands/worker.js')).registerWorker },
  { name: 'status', term: 'status [options]', description: 'runs of a PostgreSQL store, one line each, live ones first: their jobs (running, queued, failed), round, rounds/s, workers; --run ID: one run\'s streams (worker, since, round, rounds/s, attempts, reason)', load: async () => (await import('./commands/status.js')).registerStatus },
];

/** The command argv asks for (`sim [--debug] <name> ...` or `sim help <name>`), if any. */
export function invokedCommand(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * argv as commander should see it: help asked of a command that does not exist (`sim bogus --help`,
 * `sim help bogus`) is the unknown command itself, so commander names it (with a suggestion) and
 * exits 2 instead of printing the main help and exiting 0.
 */
export function helpOfUnknownCommand(argv: readonly string[]): string[] {
  const invoked = invokedCommand(argv);
  if (invoked === undefined || COMMANDS.some((c) => c.name === invoked)) return [...argv];
  const rest = argv.slice(2).filter((a) => a !== '--help' && a !== '-h');
  const helpAt = rest.indexOf('help');
  if (helpAt !== -1 && rest.indexOf(invoked) > helpAt) rest.splice(helpAt, 1);
  return [...argv.slice(0, 2), ...rest];
}

/**
 * The same for a command's subcommands, once the program is built: `sim export bogus --help` names
 * the unknown subcommand (exit 2) instead of printing `sim export`'s help and exiting 0. The word
 * right after the command is taken as the subcommand asked for.
 */
export function helpOfUnknownSubcommand(program: Command, argv: readonly string[]): string[] {
  const invoked = invokedCommand(argv);
  const command = program.commands.find((c) => c.name() === invoked);
  if (!command || command.commands.length === 0) return [...argv];
  const at = argv.indexOf(invoked!, 2);
  const asked = argv[at + 1];
  if (asked === undefined || asked.startsWith('-') || asked === 'help') return [...argv];
  if (command.commands.some((c) => c.name() === asked || c.aliases().includes(asked))) return [...argv];
  return argv.filter((a, i) => i <= at || (a !== '--help' && a !== '-h'));
}

/**
 * The `sim` command line. Every command is registered here; each lives in its own file. With
 * `load: 'invoked'` only the module of the command argv names is imported; `'all'` imports every one.
 */
export async function buildProgram(argv: readonly string[] = process.argv, load: 'invoked' | 'all' = 'invoked'): Promise<Command> {
  const program = new Command('sim')
    .description(
      'Event-sourced simulator of a social network of LLM agents measuring how get-out-the-vote nudges change voting intention and turnout.',
    )
    .version(versionLine(), '-V, --version', 'print the version and the commit sim was built from')
    .option('--debug', 'print stack traces on errors')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  program.configureOutput({ outputError: (text, write) => write(`sim: ${text.replace(/^error: /, '')}`) });

  const invoked = invokedCommand(argv);
  const listed = new Map<Command, string>();
  for (const entry of COMMANDS) {
    if (load === 'all' || entry.name === invoked) {
      (await entry.load())(program);
      continue;
    }
    const stub = program
      .command(entry.name)
      .description(entry.description)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => {
        throw new Error(`command ${entry.name} was not loaded`);
      });
    listed.set(stub, entry.term);
  }
  // --store on every loaded command that opens a store (src/cli/store-option.ts).
  addStoreOptions(program);
  checkOutAgainstEnvStore(program);
  const help = program.createHelp();
  program.configureHelp({ subcommandTerm: (command) => listed.get(command) ?? help.subcommandTerm(command) });
  for (const command of program.commands) command.exitOverride();
  return program;
}
