/**
 * Reading a recorded terminal session back from the ledger: the exec or attach request entry,
 * its `stream` entries carrying terminal events in order, and the closing response entry.
 * Reads only the ledger.
 */
import type { LedgerEntry, LedgerReader } from '../ledger/types.js';
import { decodeTerminalBatch } from './terminal-batch.js';
import type { TerminalEvent } from './terminal-recording.js';

export interface TerminalSession {
  request: LedgerEntry;
  events: TerminalEvent[];
  end?: LedgerEntry;
  /** Recorded batches whose body the store no longer has (a damaged or cut store): the events are incomplete. */
  missingParts?: number;
}

/**
 * terminalEventsOf reads the events one `stream` entry carries: inline in the entry, or — a
 * batch larger than the ledger's inline limit, as any burst of output is — from the blob store
 * by its digest. Undefined when that blob is missing.
 */
export async function terminalEventsOf(reader: LedgerReader, entry: LedgerEntry): Promise<TerminalEvent[] | undefined> {
  const payload = entry.response;
  if (!payload || payload.size === 0) return [];
  let bytes: Uint8Array | undefined = payload.inline === undefined ? undefined : Buffer.from(payload.inline, 'utf8');
  if (bytes === undefined) {
    bytes = await reader.blob(payload.sha256);
    if (!bytes) return undefined;
  }
  return decodeTerminalBatch(bytes, payload.contentType);
}

/**
 * readTerminalSession finds the request whose id is `id` (or starts with it, when unique) and
 * gathers its terminal events; it returns undefined when no such terminal session is recorded.
 */
export async function readTerminalSession(reader: LedgerReader, id: string): Promise<TerminalSession | undefined> {
  let request: LedgerEntry | undefined;
  const parts: LedgerEntry[] = [];
  let end: LedgerEntry | undefined;
  for await (const entry of reader.entries({})) {
    if (!request) {
      if (entry.type === 'request' && (entry.id === id || entry.id.startsWith(id))) request = entry;
      continue;
    }
    if (entry.data?.requestId !== request.id) continue;
    if (entry.type === 'stream' && entry.data?.terminal === true) parts.push(entry);
    else if (entry.type === 'response') end = entry;
  }
  if (!request || (parts.length === 0 && end?.data?.terminal !== true)) return undefined;
  const events: TerminalEvent[] = [];
  let missingParts = 0;
  for (const part of parts) {
    const read = await terminalEventsOf(reader, part);
    if (read) events.push(...read);
    else missingParts++;
  }
  return { request, events, ...(end ? { end } : {}), ...(missingParts > 0 ? { missingParts } : {}) };
}
