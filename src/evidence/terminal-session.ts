/**
 * Reading a recorded terminal session back from the ledger: the exec or attach request entry,
 * its `stream` entries carrying terminal events in order, and the closing response entry.
 * Reads only the ledger.
 */
import type { LedgerEntry, LedgerReader } from '../ledger/types.js';
import type { TerminalEvent } from './terminal-recording.js';

export interface TerminalSession {
  request: LedgerEntry;
  events: TerminalEvent[];
  end?: LedgerEntry;
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
  for (const part of parts) {
    const text = part.response?.inline;
    if (text === undefined) continue;
    events.push(...(JSON.parse(text) as TerminalEvent[]));
  }
  return { request, events, ...(end ? { end } : {}) };
}
