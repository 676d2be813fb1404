/** The fake OpenAI-compatible server in a process of its own, so it does not share the client's CPU. */
import { startFakeServer } from '../test/support/fake-openai-server.js';

const server = await startFakeServer({ latencyMs: Number(process.argv[2] ?? 200) });
process.stdout.write(`${server.url}\n`);
process.on('SIGTERM', async () => {
  await server.close();
  process.exit(0);
});
