/**
 * A ledger file that is not a SQLite database, or one with a damaged page, is reported as
 * AIRLOCK_LEDGER_CORRUPT naming the file, by the writer at start and by every reader (verify,
 * exports), and is never written to: it is evidence.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAirlockError } from '../../errors.js';
import { exportLedgerPublicKey, openLedger, openLedgerReader, verifyLedger } from '../index.js';

const corrupt = (path: string) => (err: unknown) => isAirlockError(err, 'AIRLOCK_LEDGER_CORRUPT') && err.message.includes(path) && /restore it from a backup/.test(err.message);

test('a file that is not a database is refused by the writer and the reader, and left as it was', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'airlock-notadb-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const path = join(dataDir, 'ledger.db');
  writeFileSync(path, 'this was a ledger until someone overwrote it\n'.repeat(200));
  const before = readFileSync(path);
  await assert.rejects(openLedger({ dataDir, store: { kind: 'sqlite' } }), corrupt(path));
  await assert.rejects(openLedgerReader({ dataDir, store: { kind: 'sqlite' } }), corrupt(path));
  assert.ok(readFileSync(path).equals(before), 'the file is not touched');
});

test('a damaged page is reported as AIRLOCK_LEDGER_CORRUPT by opening the reader or by verify, not a SQLite stack', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'airlock-damaged-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const ledger = await openLedger({ dataDir, store: { kind: 'sqlite' } });
  for (let i = 0; i < 300; i++) await ledger.append({ type: 'request', data: { n: i, padding: 'x'.repeat(200) } });
  await ledger.close();
  const path = join(dataDir, 'ledger.db');
  // Overwrite the pages after the schema, as a failing disk or a stray write would.
  const size = statSync(path).size;
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(size - 3 * 4096, 0xff), 0, size - 3 * 4096, 3 * 4096);
  closeSync(fd);
  // Which of the two reads the damage first depends on where SQLite put the schema's pages.
  const verified = openLedgerReader({ dataDir, store: { kind: 'sqlite' } }).then(async (reader) => {
    try {
      return await verifyLedger(reader, { publicKey: exportLedgerPublicKey(dataDir) });
    } finally {
      await reader.close();
    }
  });
  await assert.rejects(verified, corrupt(path));
});
