/**
 * Tampering with a real SQLite ledger file, the way someone with write access to the data
 * dir would: each case edits the file directly with SQL, and verify must name the first bad
 * entry and the right reason. One ledger is built once; each case works on its own copy.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { entryHash, jcs } from './canonical.js';
import { signCheckpoint } from './checkpoint.js';
import { exportLedgerPublicKey, openLedger, openLedgerReader, verifyLedger } from './index.js';
import { ledgerKeyId } from './signing-key.js';
import type { VerifyReason, VerifyReport } from './verify-report.js';

let root: string;
let original: { dataDir: string; witness: string };
let publicKey: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'airlock-tamper-'));
  const dataDir = join(root, 'original');
  const witness = join(root, 'original-witness.jsonl'); // outside the data dir, as a witness must be
  const ledger = await openLedger({
    dataDir,
    store: { kind: 'sqlite' },
    checkpoint: { entries: 10, intervalMs: 3_600_000 },
    witness: [{ file: witness }],
    inlineLimit: 64,
  });
  for (let i = 1; i <= 30; i++) {
    await ledger.append({
      type: 'request',
      sessionId: 'sess-1',
      action: { protocol: 'kubernetes', connection: 'prod', verb: 'get', resource: 'pods', namespace: 'default', name: `pod-${i}` },
      decision: { effect: 'allow', rules: ['read'], message: 'ok' },
      response: { body: i === 8 ? 'x'.repeat(500) : `{"n":${i}}` },
    });
  }
  await ledger.close();
  original = { dataDir, witness };
  publicKey = exportLedgerPublicKey(dataDir);
});

after(() => rmSync(root, { recursive: true, force: true }));

let copies = 0;
/** tamper copies the ledger, applies `edit` to its SQLite file, and verifies the copy. */
async function tamper(edit: (db: Database.Database, witness: string) => void, options: { witness?: boolean } = {}): Promise<VerifyReport> {
  const dataDir = join(root, `copy-${++copies}`);
  const witness = join(root, `copy-${copies}-witness.jsonl`);
  cpSync(original.dataDir, dataDir, { recursive: true });
  cpSync(original.witness, witness);
  const db = new Database(join(dataDir, 'ledger.db'));
  try {
    edit(db, witness);
  } finally {
    db.close();
  }
  const reader = await openLedgerReader({ dataDir, store: { kind: 'sqlite' } });
  try {
    return await verifyLedger(reader, { publicKey, ...(options.witness !== false ? { witness: { file: witness } } : {}) });
  } finally {
    await reader.close();
  }
}

type Row = { seq: number; id: string; hash: string; prev_hash: string; canonical: string; time: string; type: string; session_id: string | null };
const rowAt = (db: Database.Database, seq: number): Row => db.prepare('SELECT * FROM ledger_entries WHERE seq = ?').get(seq) as Row;

/** rehashFrom recomputes every hash from `seq` on, as a careful forger would. */
function rehashFrom(db: Database.Database, seq: number): void {
  let prev = rowAt(db, seq - 1).hash;
  const rows = db.prepare('SELECT seq, canonical FROM ledger_entries WHERE seq >= ? ORDER BY seq').all(seq) as Row[];
  for (const r of rows) {
    const hash = entryHash(prev, r.canonical);
    db.prepare('UPDATE ledger_entries SET prev_hash = ?, hash = ? WHERE seq = ?').run(prev, hash, r.seq);
    prev = hash;
  }
}

const cases: { name: string; edit: (db: Database.Database, witness: string) => void; seq: number; reason: VerifyReason }[] = [
  {
    name: 'a changed field in an entry',
    edit: (db) => db.prepare(`UPDATE ledger_entries SET canonical = replace(canonical, '"verb":"get"', '"verb":"delete"') WHERE seq = 7`).run(),
    seq: 7,
    reason: 'hash-mismatch',
  },
  {
    name: 'a changed index column',
    edit: (db) => db.prepare(`UPDATE ledger_entries SET type = 'approval.approved' WHERE seq = 9`).run(),
    seq: 9,
    reason: 'field-mismatch',
  },
  {
    name: 'a deleted row',
    edit: (db) => db.prepare('DELETE FROM ledger_entries WHERE seq = 12').run(),
    seq: 12,
    reason: 'seq-gap',
  },
  {
    name: 'two rows swapped',
    edit: (db) => {
      const [a, b] = [rowAt(db, 14), rowAt(db, 15)];
      const put = db.prepare('UPDATE ledger_entries SET id = ?, time = ?, type = ?, session_id = ?, prev_hash = ?, hash = ?, canonical = ? WHERE seq = ?');
      db.prepare("UPDATE ledger_entries SET id = 'tmp' WHERE seq = 14").run();
      put.run(a.id, a.time, a.type, a.session_id, a.prev_hash, a.hash, a.canonical, 15);
      put.run(b.id, b.time, b.type, b.session_id, b.prev_hash, b.hash, b.canonical, 14);
    },
    seq: 14,
    reason: 'out-of-order',
  },
  {
    name: 'an inserted row with a valid hash',
    edit: (db) => {
      for (let s = 30; s >= 16; s--) db.prepare('UPDATE ledger_entries SET seq = seq + 1 WHERE seq = ?').run(s);
      const prev = rowAt(db, 15);
      const forged = { ...(JSON.parse(prev.canonical) as Record<string, unknown>), id: 'forged-entry', seq: 16 };
      const canonical = jcs(forged);
      db.prepare('INSERT INTO ledger_entries (chain, seq, id, time, type, session_id, prev_hash, hash, canonical) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
        'main', 16, 'forged-entry', prev.time, prev.type, prev.session_id, prev.hash, entryHash(prev.hash, canonical), canonical,
      );
    },
    seq: 16,
    reason: 'inserted',
  },
  {
    name: 'a truncated tail (caught by the witness)',
    edit: (db) => {
      db.prepare('DELETE FROM ledger_entries WHERE seq > 25').run();
      db.prepare('DELETE FROM ledger_checkpoints WHERE seq > 25').run();
    },
    seq: 26,
    reason: 'truncated-tail',
  },
  {
    name: 'a forged checkpoint (altered hash)',
    edit: (db) => db.prepare('UPDATE ledger_checkpoints SET hash = ? WHERE seq = 20').run('f'.repeat(64)),
    seq: 20,
    reason: 'checkpoint-signature',
  },
  {
    name: 'a checkpoint signed by a key the auditor does not trust',
    edit: (db) => {
      const { privateKey, publicKey: pub } = generateKeyPairSync('ed25519');
      const cp = signCheckpoint({ chain: 'main', seq: 15, hash: rowAt(db, 15).hash }, { privateKey, publicKey: pub, keyId: ledgerKeyId(pub) }, new Date());
      db.prepare('INSERT INTO ledger_checkpoints (chain, seq, hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?, ?)').run(cp.chain, cp.seq, cp.hash, cp.time, cp.keyId, cp.signature);
    },
    seq: 15,
    reason: 'checkpoint-unknown-key',
  },
  {
    name: 'an edited entry with the whole chain after it re-hashed',
    edit: (db) => {
      db.prepare(`UPDATE ledger_entries SET canonical = replace(canonical, '"effect":"allow"', '"effect":"deny"') WHERE seq = 5`).run();
      rehashFrom(db, 5);
    },
    seq: 10,
    reason: 'checkpoint-mismatch',
  },
  {
    name: 'a corrupted blob',
    edit: (db) => db.prepare('UPDATE ledger_blobs SET data = ?').run(Buffer.from('y'.repeat(500))),
    seq: 8,
    reason: 'blob-corrupt',
  },
  {
    name: 'a deleted blob',
    edit: (db) => db.prepare('DELETE FROM ledger_blobs').run(),
    seq: 8,
    reason: 'blob-missing',
  },
  {
    name: 'a forged witness line',
    edit: (_db, witness) => {
      const lines = readFileSync(witness, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      lines[1] = { ...lines[1], hash: 'e'.repeat(64) };
      writeFileSync(witness, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    },
    seq: 20,
    reason: 'witness-signature',
  },
];

test('the untampered ledger verifies, with every checkpoint signed and witnessed', async () => {
  const report = await tamper(() => undefined);
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.deepEqual(report.chains, [{ chain: 'main', entries: 30, lastSeq: 30, checkpoints: 3, validCheckpoints: 3, witnessed: 3, unsigned: 0 }]);
});

for (const c of cases) {
  test(`verify names the first bad entry: ${c.name} -> ${c.reason} at seq ${c.seq}`, async () => {
    const report = await tamper(c.edit);
    assert.equal(report.ok, false);
    const firstBad = report.chains.find((ch) => ch.chain === 'main')?.firstBad;
    assert.deepEqual({ seq: firstBad?.seq, reason: firstBad?.reason }, { seq: c.seq, reason: c.reason }, JSON.stringify(report.problems, null, 1));
  });
}

test('the first bad entry is named by id as well as position', async () => {
  let id = '';
  const report = await tamper((db) => {
    id = rowAt(db, 7).id;
    db.prepare(`UPDATE ledger_entries SET canonical = replace(canonical, 'pod-7', 'pod-8') WHERE seq = 7`).run();
  });
  assert.equal(report.chains[0]?.firstBad?.id, id);
  assert.equal(report.problems.length, 1, 'one edited entry is one problem');
});

test('without the witness a cut tail cannot be seen, which is why witnesses exist', async () => {
  const cut = (db: Database.Database): void => {
    db.prepare('DELETE FROM ledger_entries WHERE seq > 25').run();
    db.prepare('DELETE FROM ledger_checkpoints WHERE seq > 25').run();
  };
  const report = await tamper(cut, { witness: false });
  assert.equal(report.ok, true);
  assert.equal(report.chains[0]?.unsigned, 5, 'the entries after the last surviving checkpoint are reported unsigned');
});

test('a checkpoint left behind by a truncation reveals it even without a witness', async () => {
  const report = await tamper((db) => db.prepare('DELETE FROM ledger_entries WHERE seq > 25').run(), { witness: false });
  assert.deepEqual({ seq: report.chains[0]?.firstBad?.seq, reason: report.chains[0]?.firstBad?.reason }, { seq: 26, reason: 'truncated-tail' });
});
