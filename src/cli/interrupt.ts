/**
 * Ctrl-C (SIGINT) and SIGTERM (containers, job schedulers) stop a run at its next round boundary:
 * the round in progress is appended whole or not at all, and `sim resume` continues. The first
 * signal asks for that stop; our listeners are then removed, so a second signal gets the default
 * action and ends the process at once, even in the middle of a long round (SQLite keeps every
 * committed round; the lease of a dead process is taken over by `sim resume`).
 */
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** Calls `stop` on the first SIGINT or SIGTERM; returns the function that stops listening. */
export function onInterrupt(stop: (signal: NodeJS.Signals) => void): () => void {
  const handler = (signal: NodeJS.Signals) => {
    dispose();
    stop(signal);
  };
  const dispose = () => {
    for (const signal of SIGNALS) process.off(signal, handler);
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  return dispose;
}
