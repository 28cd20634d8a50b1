/**
 * Comparing a bundle's derived files (session logs, audit events, approvals) with what its
 * ledger segment yields, both ways, in memory that does not grow with the period.
 *
 * The common case — nothing was changed — is one pass: the rows are derived from the segment
 * once and every file is read alongside them, record by record. Only a file that differs is
 * looked at again: its records and the expected ones are counted by digest (44 characters per
 * record, not the record), then read a last time to name what was added, changed or dropped. A bundle
 * of a quarter's traffic verifies in the memory of a day's.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileRecords } from '../ledger/file-records.js';

/** One derived file and how to read and describe its records. */
export interface DerivedFile {
  /** Path of the file in the bundle. */
  path: string;
  /** Name in problems (`sessions.jsonl`). */
  name: string;
  /** Record separator: `\n` for JSON lines, `\r\n` for CSV. */
  separator: '\n' | '\r\n';
  /** What one record is called in problems (`line`, `record`). */
  noun: string;
  /** A short description of a record for a problem. */
  describe(record: string): string;
}

/** pieces splits expected text as `fileRecords` splits the file (a CSV cell may hold a CRLF). */
function pieces(text: string, separator: string): string[] {
  return text.split(separator).filter((p) => p !== '');
}

/**
 * compareInStep reads each file alongside `expected` — which yields, for every derived record,
 * the text each file should hold for it (undefined: nothing for that file), in file order — and
 * returns the files that differ in any way.
 */
export async function compareInStep(
  files: readonly DerivedFile[],
  expected: () => AsyncIterable<ReadonlyArray<string | undefined>>,
): Promise<Set<DerivedFile>> {
  const differ = new Set<DerivedFile>();
  const readers = files.map((f) => (existsSync(f.path) ? fileRecords(f.path, f.separator)[Symbol.asyncIterator]() : undefined));
  files.forEach((f, i) => {
    if (!readers[i]) differ.add(f);
  });
  for await (const texts of expected()) {
    for (let i = 0; i < files.length; i++) {
      const f = files[i] as DerivedFile;
      const reader = readers[i];
      const text = texts[i];
      if (!reader || text === undefined || differ.has(f)) continue;
      for (const want of pieces(text, f.separator)) {
        const next = await reader.next();
        if (next.done || next.value !== want) {
          differ.add(f);
          break;
        }
      }
    }
  }
  for (let i = 0; i < files.length; i++) {
    const f = files[i] as DerivedFile;
    const reader = readers[i];
    if (!reader) continue;
    if (!differ.has(f) && !(await reader.next()).done) differ.add(f);
    await reader.return?.(undefined);
  }
  return differ;
}

// A digest stands in for a record in the counts: 44 characters however long the record.
const digest = (record: string): string => createHash('sha256').update(record).digest('base64');

/**
 * explainDifference names, for a file that differs, each record the ledger does not account
 * for (added or changed) and each record the ledger holds that the file lacks (dropped or
 * changed); with neither, the order is wrong. At most 20 and 40 problems are listed.
 */
export async function explainDifference(file: DerivedFile, expected: () => AsyncIterable<string>, problems: string[]): Promise<void> {
  if (!existsSync(file.path)) {
    problems.push(`${file.name} is missing`);
    return;
  }
  const want = new Map<string, number>();
  for await (const text of expected()) for (const r of pieces(text, file.separator)) want.set(digest(r), (want.get(digest(r)) ?? 0) + 1);
  const have = new Map<string, number>();
  for await (const r of fileRecords(file.path, file.separator)) have.set(digest(r), (have.get(digest(r)) ?? 0) + 1);
  const surplus = (a: Map<string, number>, b: Map<string, number>) => {
    const out = new Map<string, number>();
    for (const [d, n] of a) if ((b.get(d) ?? 0) < n) out.set(d, n - (b.get(d) ?? 0));
    return out;
  };
  const added = surplus(have, want);
  const dropped = surplus(want, have);
  let reported = 0;
  const name = (a: string) => `${file.name}: ${a}`;
  if (added.size > 0) {
    for await (const r of fileRecords(file.path, file.separator)) {
      const d = digest(r);
      const n = added.get(d);
      if (!n) continue;
      if (reported++ < 20) problems.push(name(`a ${file.noun} the ledger segment does not hold (added or changed): ${file.describe(r)}`));
      added.set(d, n - 1);
    }
  }
  if (dropped.size > 0) {
    for await (const text of expected()) {
      for (const r of pieces(text, file.separator)) {
        const d = digest(r);
        const n = dropped.get(d);
        if (!n) continue;
        if (reported++ < 40) problems.push(name(`a ledger entry has no ${file.noun} here (dropped or changed): ${file.describe(r)}`));
        dropped.set(d, n - 1);
      }
    }
  }
  if (reported === 0) problems.push(name(`its ${file.noun}s are out of ledger order`));
}
