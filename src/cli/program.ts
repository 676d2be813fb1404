import { Command } from 'commander';
import { CODE_VERSION } from '../version.js';
import { registerCalibrate } from './commands/calibrate.js';
import { registerCopy } from './commands/copy.js';
import { registerExport } from './commands/export.js';
import { registerProject } from './commands/project.js';
import { registerReplay } from './commands/replay.js';
import { registerPlan } from './commands/plan.js';
import { registerReport } from './commands/report.js';
import { registerResume } from './commands/resume.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerShow } from './commands/show.js';
import { registerStatus } from './commands/status.js';
import { registerSubmit } from './commands/submit.js';
import { registerSweep } from './commands/sweep.js';
import { registerUsers } from './commands/users.js';
import { registerWorker } from './commands/worker.js';
import { addStoreOptions } from './store-option.js';

/** The `sim` command line. Every command is registered here; each lives in its own file. */
export function buildProgram(): Command {
  const program = new Command('sim')
    .description(
      'Event-sourced simulator of a social network of LLM agents measuring how get-out-the-vote nudges change voting intention and turnout.',
    )
    .version(CODE_VERSION)
    .option('--debug', 'print stack traces on errors')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  program.configureOutput({ outputError: (text, write) => write(`sim: ${text.replace(/^error: /, '')}`) });

  registerRun(program);
  registerResume(program);
  registerReplay(program);
  registerProject(program);
  registerExport(program);
  registerShow(program);
  registerReport(program);
  registerPlan(program);
  registerRuns(program);
  registerUsers(program);
  registerCalibrate(program);
  registerCopy(program);
  registerSubmit(program);
  registerSweep(program);
  registerWorker(program);
  registerStatus(program);
  addStoreOptions(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}
