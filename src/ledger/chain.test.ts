/**
 * Property tests of the hash chain: any sequence of entries, sealed in any batching,
 * verifies; any single change to any stored field of any row fails verification at that row.
 * The rows live in memory behind the LedgerReader interface, so thousands of chains can be
 * tried quickly; the same verify code runs against SQLite and PostgreSQL files elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { GENESIS_HASH } from './canonical.js';
import { prepareEntry } from './entry-input.js';
import { sealBatch, type Head } from './store.js';
import { createUuidV7 } from './uuid-v7.js';
import { verifyLedger } from './verify.js';
import type { EntryInput, LedgerReader, StoredEntryRow } from './types.js';
import { rowToEntry } from './store-query.js';

const { publicKey } = generateKeyPairSync('ed25519');

function memoryReader(rows: StoredEntryRow[], blobs = new Map<string, Uint8Array>()): LedgerReader {
  const sorted = () => [...rows].sort((a, b) => (a.chain === b.chain ? a.seq - b.seq : a.chain < b.chain ? -1 : 1));
  return {
    async chains() {
      return [...new Set(rows.map((r) => r.chain))].sort();
    },
    async *rows(q) {
      for (const r of sorted()) if (q.chain === undefined || r.chain === q.chain) yield r;
    },
    async *entries(q) {
      for await (const r of this.rows(q)) yield rowToEntry(r);
    },
    async head() {
      return undefined;
    },
    async checkpoints() {
      return [];
    },
    async blob(sha) {
      return blobs.get(sha);
    },
    async close() {},
  };
}

const inputArb: fc.Arbitrary<EntryInput> = fc.record(
  {
    type: fc.constantFrom('request', 'stream', 'session.start', 'system'),
    sessionId: fc.string({ maxLength: 12 }),
    connection: fc.string({ maxLength: 12 }),
    action: fc.record({ protocol: fc.constant('kubernetes'), connection: fc.string(), verb: fc.string(), name: fc.string() }),
    decision: fc.record({ effect: fc.constantFrom('allow', 'deny', 'review'), rules: fc.array(fc.string()), message: fc.string() }),
    request: fc.record({ body: fc.string({ maxLength: 64 }) }),
    data: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })),
  },
  { requiredKeys: ['type'] },
) as fc.Arbitrary<EntryInput>;

/** seal builds the rows a store would hold for `inputs`, cut into batches of the given sizes. */
function seal(chain: string, inputs: EntryInput[], cuts: number[]): StoredEntryRow[] {
  const newId = createUuidV7();
  const prepared = inputs.map((i) => prepareEntry(i, { newId, now: () => new Date(1_760_000_000_000), inlineLimit: 32 }).encoded);
  const rows: StoredEntryRow[] = [];
  let head: Head = { seq: 0, hash: GENESIS_HASH };
  let at = 0;
  for (let c = 0; at < prepared.length; c++) {
    const size = Math.max(1, cuts[c % Math.max(1, cuts.length)] ?? 1);
    const sealed = sealBatch(chain, head, prepared.slice(at, at + size));
    rows.push(...sealed.rows);
    head = sealed.head;
    at += size;
  }
  return rows;
}

test('a chain of arbitrary entries, committed in arbitrary batches, verifies', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(inputArb, { minLength: 1, maxLength: 25 }), fc.array(fc.integer({ min: 1, max: 7 })), async (inputs, cuts) => {
      const rows = seal('main', inputs, cuts);
      assert.deepEqual(rows.map((r) => r.seq), inputs.map((_, i) => i + 1));
      const report = await verifyLedger(memoryReader(rows), { publicKey });
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.chains[0]?.entries, inputs.length);
    }),
    { numRuns: 200 },
  );
});

type Column = 'seq' | 'chain' | 'id' | 'time' | 'type' | 'sessionId' | 'prevHash' | 'hash' | 'canonical';
const columns: Column[] = ['seq', 'chain', 'id', 'time', 'type', 'sessionId', 'prevHash', 'hash', 'canonical'];

/** mutate changes one stored field so that it differs from the original. */
function mutate(row: StoredEntryRow, column: Column, pick: number, maxSeq: number): StoredEntryRow {
  const out = { ...row };
  switch (column) {
    case 'seq':
      out.seq = maxSeq + 1 + pick; // moved away: a hole where it was
      break;
    case 'chain':
      out.chain = `${row.chain}x`;
      break;
    case 'sessionId':
      out.sessionId = row.sessionId === null ? 'forged' : row.sessionId === '' ? null : `${row.sessionId}x`;
      break;
    case 'canonical': {
      // Flip one character somewhere in the hashed text.
      const i = pick % row.canonical.length;
      const c = row.canonical.charCodeAt(i);
      out.canonical = row.canonical.slice(0, i) + String.fromCharCode(c === 0x41 ? 0x42 : 0x41) + row.canonical.slice(i + 1);
      break;
    }
    default: {
      const v = row[column];
      const i = pick % v.length;
      out[column] = v.slice(0, i) + (v[i] === '0' ? '1' : '0') + v.slice(i + 1);
    }
  }
  return out;
}

test('any single change to any stored field of any row fails verification at that row', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(inputArb, { minLength: 1, maxLength: 12 }),
      fc.nat(),
      fc.constantFrom(...columns),
      fc.nat(),
      async (inputs, rowPick, column, pick) => {
        const rows = seal('main', inputs, [3]);
        const target = rowPick % rows.length;
        const original = rows[target] as StoredEntryRow;
        const changed = mutate(original, column, pick, rows.length);
        fc.pre(JSON.stringify(changed) !== JSON.stringify(original));
        rows[target] = changed;
        const report = await verifyLedger(memoryReader(rows), { publicKey });
        assert.equal(report.ok, false, `${column} change went unnoticed`);
        const detail = `${column}: ${JSON.stringify(report.problems)}`;
        if (column === 'chain') {
          // A row moved to another chain: that chain names it (the first chain just ends earlier).
          assert.ok(report.problems.some((p) => p.chain === changed.chain && p.seq === original.seq), detail);
        } else {
          assert.equal(report.chains.find((c) => c.chain === 'main')?.firstBad?.seq, original.seq, detail);
        }
      },
    ),
    { numRuns: 1000 },
  );
});
