import { CommanderError } from 'commander';
import { CLOSED_OUTPUT_EXIT, EXIT_CODES, exitCodeOf, SimError } from '../errors.js';
import { buildProgram, helpOfUnknownCommand, helpOfUnknownSubcommand } from './program.js';

const argv = helpOfUnknownCommand(process.argv);
const debug = argv.includes('--debug');

// A reader that goes away (`sim runs | head -1`, `sim run 2>&1 | head`) ends the command at once and
// quietly, as it ends a Unix tool: nothing more can be shown to anyone. A run stopped that way is
// left as after a kill, and `sim resume` continues it.
// Any other failure to write them (a full disk under `> file`) is one line, where it can still be read.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(CLOSED_OUTPUT_EXIT);
    if (stream === process.stdout) {
      try {
        process.stderr.write(`sim: cannot write to standard output (${error.code ?? error.message})\n`);
      } catch {
        // stderr is gone too: the status says it
      }
    }
    process.exit(EXIT_CODES.output_write);
  });
}

try {
  const program = await buildProgram(argv);
  await program.parseAsync(helpOfUnknownSubcommand(program, argv));
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
