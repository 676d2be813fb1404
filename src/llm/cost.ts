import type { Usage } from '../domain/decision.js';

export interface Price {
  input: number;
  cached_input: number;
  output: number;
}

/** USD for one call's tokens, at prices per million tokens; unknown models cost 0 (and are flagged). */
export function costOf(usage: Usage, price: Price | undefined): number {
  if (!price) return 0;
  const uncached = Math.max(0, usage.promptTokens - usage.cachedTokens);
  return (uncached * price.input + usage.cachedTokens * price.cached_input + usage.completionTokens * price.output) / 1e6;
}
