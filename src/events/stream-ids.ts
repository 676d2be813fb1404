/** Stream ids: `run/<run id>/<name>`, where a run's stages are its streams. */
export function streamId(runId: number, name: string): string {
  return `run/${runId}/${name}`;
}

/**
 * How events refer to a stream: by name inside the same run (so the run id, which differs between
 * databases, never enters a hash), by full id for another run's stream.
 */
export function streamRef(runId: number, id: string): string {
  const own = streamId(runId, '');
  return id.startsWith(own) ? id.slice(own.length) : id;
}

export function resolveStreamRef(runId: number, ref: string): string {
  return ref.startsWith('run/') ? ref : streamId(runId, ref);
}
