/**
 * The fake OpenAI-compatible server in a process of its own, so it does not share the client's CPU.
 * Prints its URL; on SIGTERM prints how many requests it got and the most it had in flight, then exits.
 */
import { startFakeServer } from '../test/support/fake-openai-server.js';

const server = await startFakeServer({ latencyMs: Number(process.argv[2] ?? 200), neverFaults: true });
process.stdout.write(`${server.url}\n`);
process.on('SIGTERM', () => {
  const stats = { requests: server.requests, maxInFlight: server.maxInFlight };
  server.close().then(
    () => process.stdout.write(`${JSON.stringify(stats)}\n`, () => process.exit(0)),
    (error: unknown) => {
      process.stderr.write(`fake server: could not close: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
});
