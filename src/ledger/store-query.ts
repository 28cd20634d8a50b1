/**
 * Reading stored rows page by page, the same way for every backend: keyset pagination on
 * (chain, seq), so verifying or exporting millions of entries holds one page in memory and
 * each page is an index range scan, never an OFFSET.
 */
import type { EntryQuery, LedgerEntry, StoredEntryRow } from './types.js';

/** Rows fetched per round trip. */
export const PAGE_SIZE = 1000;

/** The position after which the next page starts. */
export interface RowCursor {
  chain: string;
  seq: number;
}

const COLUMNS =
  'chain, seq, id, time, type, session_id AS "sessionId", prev_hash AS "prevHash", hash, canonical';

/**
 * buildRowsQuery renders one page of `query` after `cursor`. `ph(i)` renders the i-th
 * (1-based) placeholder: `?` for SQLite, `$i` for PostgreSQL. `since` is inclusive and
 * `until` exclusive (RFC 3339 UTC times compare as strings).
 */
export function buildRowsQuery(
  table: string,
  query: EntryQuery,
  cursor: RowCursor | undefined,
  pageSize: number,
  ph: (i: number) => string,
): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (value: unknown): string => {
    params.push(value);
    return ph(params.length);
  };
  if (query.chain !== undefined) where.push(`chain = ${p(query.chain)}`);
  if (query.fromSeq !== undefined) where.push(`seq >= ${p(query.fromSeq)}`);
  if (query.toSeq !== undefined) where.push(`seq <= ${p(query.toSeq)}`);
  if (query.since !== undefined) where.push(`time >= ${p(query.since)}`);
  if (query.until !== undefined) where.push(`time < ${p(query.until)}`);
  if (query.sessionId !== undefined) where.push(`session_id = ${p(query.sessionId)}`);
  if (query.types !== undefined) {
    if (query.types.length === 0) where.push('1 = 0');
    else where.push(`type IN (${query.types.map((t) => p(t)).join(', ')})`);
  }
  // The cursor as a range the (chain, seq) primary key serves directly: `seq > ?` within one
  // chain, a row-value comparison across chains. (An OR of the two forms made both stores scan
  // from the chain's start on every page: the pages got slower the deeper they lay.)
  if (cursor) {
    if (query.chain !== undefined) where.push(`seq > ${p(cursor.seq)}`);
    else where.push(`(chain, seq) > (${p(cursor.chain)}, ${p(cursor.seq)})`);
  }
  const sql =
    `SELECT ${COLUMNS} FROM ${table}` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY chain, seq LIMIT ${p(pageSize)}`;
  return { sql, params };
}

/** pagedRows turns a page fetcher into a bounded-memory stream honouring `query.limit`. */
export async function* pagedRows(
  query: EntryQuery,
  fetchPage: (cursor: RowCursor | undefined, pageSize: number) => Promise<StoredEntryRow[]>,
): AsyncGenerator<StoredEntryRow> {
  let remaining = query.limit ?? Number.POSITIVE_INFINITY;
  let cursor: RowCursor | undefined;
  while (remaining > 0) {
    const size = Math.min(PAGE_SIZE, remaining);
    const page = await fetchPage(cursor, size);
    for (const row of page) yield row;
    remaining -= page.length;
    const last = page[page.length - 1];
    if (page.length < size || !last) return;
    cursor = { chain: last.chain, seq: last.seq };
  }
}

/** rowToEntry rebuilds the entry from the canonical text it was hashed as. */
export function rowToEntry(row: StoredEntryRow): LedgerEntry {
  const entry = JSON.parse(row.canonical) as LedgerEntry;
  entry.prevHash = row.prevHash;
  entry.hash = row.hash;
  return entry;
}
