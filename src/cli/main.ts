import { CommanderError } from 'commander';
import { EXIT_CODES, exitCodeOf, SimError } from '../errors.js';
import { buildProgram, helpOfUnknownCommand } from './program.js';

const argv = helpOfUnknownCommand(process.argv);
const debug = argv.includes('--debug');

try {
  await (await buildProgram(argv)).parseAsync(argv);
} catch (error) {
  process.exitCode = exitCodeFor(error);
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // commander has already printed the usage problem; help and version are not errors.
    return error.exitCode === 0 ? 0 : EXIT_CODES.usage;
  }
  if (error instanceof SimError) {
    process.stderr.write(`sim: ${error.message}\n`);
    if (debug) process.stderr.write(`${error.stack}\n`);
    return exitCodeOf(error);
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`sim: unexpected error: ${message}${debug ? '' : ' (run again with --debug for details)'}\n`);
  if (debug && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return exitCodeOf(error);
}
