import { IntegrityError } from '../errors.js';
import { canonicalJson, sha256 } from './canonical.js';
import type { ChainBreak, NewEvent, Recorded, StreamHead } from './port.js';

/**
 * The text hashed for one event. Built by concatenation in canonical key order around the stored
 * payload, so verification recomputes it from the stored bytes alone. The stream id is left out on
 * purpose: the same experiment recorded in two databases (or under two run ids) has the same hashes.
 */
export function eventHashInput(
  prevHash: string,
  e: { streamPosition: number; type: string; round: number; agentId: number | null; schemaVersion: number },
  payload: string,
): string {
  return `${prevHash}{"agentId":${e.agentId === null ? 'null' : e.agentId},"data":${payload},"round":${e.round},"streamPosition":${e.streamPosition},"type":${JSON.stringify(e.type)},"v":${e.schemaVersion}}`;
}

/** A run's fingerprint: the hash of its streams' names and last hashes. Equal runs, equal fingerprints. */
export function fingerprintOf(streams: ReadonlyArray<{ name: string; hash: string }>): string {
  const heads = [...streams].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((s) => [s.name, s.hash]);
  return sha256(canonicalJson(heads));
}

/** A batch ready to insert: each event's payload text and hash, chained from `head`. */
export interface SealedBatch<E extends NewEvent> {
  recorded: Array<Recorded<E>>;
  payloads: string[];
  head: StreamHead;
}

/**
 * Numbers and hashes a batch after `head`, before any transaction (the same work on every backend,
 * so stream positions and hashes are identical across them). Global positions are left 0 for the
 * backend to fill in.
 */
export function sealBatch<E extends NewEvent>(streamId: string, head: StreamHead, events: readonly E[], schemaVersion: number): SealedBatch<E> {
  const recorded = new Array<Recorded<E>>(events.length);
  const payloads = new Array<string>(events.length);
  let prevHash = head.hash;
  let position = head.position;
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    position += 1;
    const payload = canonicalJson(event.data);
    const meta = event.meta;
    const agentId = meta.agentId ?? null;
    const round = meta.round;
    const hash = sha256(eventHashInput(prevHash, { streamPosition: position, type: event.type, round, agentId, schemaVersion }, payload));
    payloads[i] = payload;
    recorded[i] = {
      type: event.type,
      data: event.data,
      // The event's own meta when it is already in recorded form (one object less per event).
      meta: meta.agentId === agentId ? meta : { round, agentId },
      position: 0,
      streamId,
      streamPosition: position,
      schemaVersion,
      hash,
    } as unknown as Recorded<E>;
    prevHash = hash;
  }
  return { recorded, payloads, head: { position, hash: prevHash } };
}

/**
 * Checks a stream's chain from rows of [global position, stream position, hashed text without the
 * previous hash, stored hash], in stream order (backends build the hashed text in SQL, the same bytes
 * as `eventHashInput`, so each row crosses over as two strings). Each link is checked against the
 * previous row's stored hash; all links holding means the chain recomputed from the start equals the
 * stored one. Finally the stored head must describe the last event.
 */
export class ChainCheck {
  private prevHash = '';
  private expected = 0;
  broken: ChainBreak | null = null;

  /** Feeds rows; returns false once broken (stop feeding). */
  feed(rows: Iterable<readonly [number, number, string, string]>): boolean {
    if (this.broken) return false;
    for (const [position, streamPosition, hashed, stored] of rows) {
      this.expected += 1;
      if (Number(streamPosition) !== this.expected) {
        this.broken = { streamPosition: this.expected, position: Number(position), reason: `stream position ${this.expected} is missing` };
        this.expected -= 1;
        return false;
      }
      if (sha256(this.prevHash + hashed) !== stored) {
        this.broken = { streamPosition: Number(streamPosition), position: Number(position), reason: 'hash does not match its contents and predecessor' };
        this.expected -= 1;
        return false;
      }
      this.prevHash = stored;
    }
    return true;
  }

  /** The result once every row is fed, given the stored head. */
  finish(head: StreamHead): { broken: ChainBreak | null; events: number } {
    if (this.broken) return { broken: this.broken, events: this.expected };
    if (head.position !== this.expected || head.hash !== this.prevHash) {
      return { broken: { streamPosition: this.expected, position: -1, reason: 'stream head does not match its last event' }, events: this.expected };
    }
    return { broken: null, events: this.expected };
  }
}

export function integrityError(location: string, stream: string, broken: ChainBreak): IntegrityError {
  return new IntegrityError({ file: location, stream, streamPosition: broken.streamPosition, position: broken.position, reason: broken.reason });
}

/** The cheap head check (see Store.headMismatch), from the stream's last stored event (null: none). */
export function describeHeadMismatch(stream: string, head: StreamHead, last: { position: number; hash: string } | null): string | null {
  const position = last?.position ?? 0;
  if (position !== head.position) return `stream ${stream}: head says ${head.position} events, its last event is at position ${position}`;
  if ((last?.hash ?? '') !== head.hash) return `stream ${stream}: head hash does not match its last event (position ${position})`;
  return null;
}

/** Turns a stored row into a recorded event through the codec; throws naming the event. */
export function decodeRow<E extends NewEvent>(
  row: { position: number; stream_id: string; stream_position: number; round: number; type: string; agent_id: number | null; payload: string; schema_version: number; hash: string },
  decode: (type: string, data: unknown, where: string) => E['data'],
  fail: (message: string) => Error,
): Recorded<E> {
  const where = `event ${row.position} (${row.stream_id}#${row.stream_position})`;
  let raw: unknown;
  try {
    raw = JSON.parse(row.payload);
  } catch {
    throw fail(`${where}: payload is not valid JSON`);
  }
  let data: E['data'];
  try {
    data = decode(row.type, raw, where);
  } catch (error) {
    throw fail((error as Error).message);
  }
  return {
    type: row.type,
    data,
    meta: { round: Number(row.round), agentId: row.agent_id === null ? null : Number(row.agent_id) },
    position: Number(row.position),
    streamId: row.stream_id,
    streamPosition: Number(row.stream_position),
    schemaVersion: Number(row.schema_version),
    hash: row.hash,
  } as unknown as Recorded<E>;
}
