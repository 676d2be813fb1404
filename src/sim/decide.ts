import type { DecisionRequest, Provider, ProviderAnswer } from '../domain/decision.js';
import { InterruptedError } from '../errors.js';

/**
 * Asks the provider for every request at once (it limits concurrency itself); order is kept. A stop
 * asked for meanwhile drops the round before anything of it is applied or appended.
 */
export async function decideAll(provider: Provider, requests: DecisionRequest[], signal: AbortSignal | undefined, round: number, stream: string): Promise<ProviderAnswer[]> {
  let answers: ProviderAnswer[];
  try {
    answers = await Promise.all(requests.map((r) => provider.decide(r)));
    // The answers reach the cache before the round that uses them is appended (docs/llm.md).
    await provider.persist?.();
  } catch (error) {
    // A provider stopped mid-request knows the round, not the stream.
    if (error instanceof InterruptedError && error.stream === undefined) throw new InterruptedError(error.round, stream);
    throw error;
  }
  await checkpoint(signal, round, stream);
  return answers;
}

/**
 * A point where a run may stop: everything before it is appended, nothing after it is. The offline
 * model answers without I/O, so without this yield a round loop would never let the event loop run
 * a signal handler (or, in a worker thread, receive the "abort" message): Ctrl-C would go unheard.
 */
export async function checkpoint(signal: AbortSignal | undefined, round: number, stream?: string): Promise<void> {
  if (!signal) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (signal.aborted) throw new InterruptedError(round, stream);
}
