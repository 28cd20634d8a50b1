/**
 * Ledger segments: a period of the real SQLite ledger copied to files verifies offline with the
 * ordinary verifier, ends on a signed checkpoint, and any edit of the copy is named.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, unlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportLedgerPublicKey, openLedger, openLedgerReader, verifyLedger } from './index.js';
import { exportSegment, openSegmentReader, readSegmentInfo, type SegmentInfo } from './segment.js';

describe('ledger segments', () => {
  let dataDir: string;
  let work: string;
  let publicKey: string;
  const start = Date.parse('2026-11-20T00:00:00.000Z');
  const at = (minute: number) => new Date(start + minute * 60_000).toISOString();

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'airlock-segment-'));
    work = mkdtempSync(join(tmpdir(), 'airlock-segment-out-'));
    let minute = 0;
    const ledger = await openLedger({ dataDir, store: { kind: 'sqlite' }, checkpoint: { entries: 10, intervalMs: 3_600_000 }, inlineLimit: 64, now: () => new Date(start + minute * 60_000) });
    // 45 entries, one a minute; every fifth carries a body big enough for the blob store.
    for (minute = 0; minute < 45; minute++) {
      await ledger.append({ type: 'request', connection: 'c', data: { n: minute }, ...(minute % 5 === 0 ? { request: { contentType: 'application/json', body: JSON.stringify({ n: minute, pad: 'x'.repeat(200) }) } } : {}) });
    }
    await ledger.close();
    publicKey = exportLedgerPublicKey(dataDir);
  });
  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  async function exported(name: string, period: { since?: string; until?: string }): Promise<{ dir: string; info: SegmentInfo }> {
    const dir = join(work, name);
    const reader = await openLedgerReader({ dataDir, store: { kind: 'sqlite' } });
    try {
      return { dir, info: await exportSegment(reader, dir, period) };
    } finally {
      await reader.close();
    }
  }

  async function verify(dir: string) {
    const info = readSegmentInfo(dir)!;
    const segments = Object.fromEntries(info.chains.map((c) => [c.chain, { fromSeq: c.fromSeq, prevHash: c.prevHash }]));
    return verifyLedger(openSegmentReader(dir, info), { publicKey, segments });
  }

  it('a period in the middle runs to the next checkpoint and verifies offline', async () => {
    const { dir, info } = await exported('middle', { since: at(12), until: at(23) });
    const [c] = info.chains;
    assert.deepEqual([c!.fromSeq, c!.toSeq], [13, 30], 'from the first entry of the period to the checkpoint at #30');
    assert.equal(c!.unsigned, 0);
    assert.ok(info.blobs >= 3);
    const report = await verify(dir);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.chains[0]?.entries, 18);
  });

  it('a period that runs to the end of the ledger ends on the checkpoint written at close', async () => {
    const { dir, info } = await exported('tail', { since: at(35) });
    assert.deepEqual([info.chains[0]!.fromSeq, info.chains[0]!.toSeq, info.chains[0]!.unsigned], [36, 45, 0]);
    assert.equal((await verify(dir)).ok, true);
  });

  const edits: Array<[string, (dir: string) => void, RegExp]> = [
    ['a changed entry', (dir) => editRows(dir, (rows) => (rows[3] = rows[3]!.replace(/\\"n\\":\d+/, '\\"n\\":99'))), /hash-mismatch/],
    ['a deleted entry', (dir) => editRows(dir, (rows) => rows.splice(4, 1)), /seq-gap/],
    ['two swapped entries', (dir) => editRows(dir, (rows) => ([rows[5], rows[6]] = [rows[6]!, rows[5]!])), /out-of-order|prev-hash-mismatch|inserted/],
    ['an entry cut from the front', (dir) => editRows(dir, (rows) => rows.shift()), /seq-gap|prev-hash-mismatch/],
    ['a forged checkpoint', (dir) => editCheckpoints(dir, (cps) => (cps[0]!.hash = '0'.repeat(64))), /checkpoint-signature/],
    ['a corrupt blob', (dir) => {
      const blobs = join(dir, 'blobs');
      const f = join(blobs, readdirSync(blobs)[0]!);
      writeFileSync(f, Buffer.concat([readFileSync(f), Buffer.from(' ')]));
    }, /blob-corrupt/],
    ['a missing blob', (dir) => unlinkSync(join(dir, 'blobs', readdirSync(join(dir, 'blobs'))[0]!)), /blob-missing/],
  ];
  for (const [what, edit, reason] of edits) {
    it(`${what} in the copy is named by the verifier`, async () => {
      const { dir } = await exported(what.replace(/\W+/g, '-'), { since: at(12), until: at(23) });
      edit(dir);
      const report = await verify(dir);
      assert.equal(report.ok, false);
      assert.match(report.problems.map((p) => p.reason).join(' '), reason, JSON.stringify(report.problems));
    });
  }
});

function editRows(dir: string, edit: (rows: string[]) => void): void {
  const file = join(dir, 'main.rows.jsonl');
  const rows = readFileSync(file, 'utf8').trim().split('\n');
  edit(rows);
  writeFileSync(file, `${rows.join('\n')}\n`);
}

function editCheckpoints(dir: string, edit: (cps: Array<{ hash: string }>) => void): void {
  const file = join(dir, 'main.checkpoints.json');
  const cps = JSON.parse(readFileSync(file, 'utf8')) as Array<{ hash: string }>;
  edit(cps);
  writeFileSync(file, JSON.stringify(cps));
}

describe('segment reader paging', () => {
  let dataDir: string;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'airlock-segment-paging-'));
    const ledger = await openLedger({ dataDir, store: { kind: 'sqlite' } });
    for (let i = 0; i < 60; i++) await ledger.append({ type: i % 3 === 0 ? 'request' : 'response', data: { i } });
    await ledger.close();
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  async function segment(): Promise<{ dir: string; info: SegmentInfo }> {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-segment-pages-'));
    const reader = await openLedgerReader({ dataDir, store: { kind: 'sqlite' } });
    try {
      return { dir, info: await exportSegment(reader, dir, {}) };
    } finally {
      await reader.close();
    }
  }
  const seqs = async (reader: ReturnType<typeof openSegmentReader>, query: Parameters<ReturnType<typeof openSegmentReader>['rows']>[0]) => {
    const out: number[] = [];
    for await (const row of reader.rows(query)) out.push(row.seq);
    return out;
  };

  it('a page from any seq, found through the index, holds exactly the rows a full read holds there', async () => {
    const { dir, info } = await segment();
    const reader = openSegmentReader(dir, info, { indexEvery: 7 });
    const all = await seqs(reader, { chain: 'main' });
    assert.equal(all.length, 60);
    for (const from of [1, 2, 7, 8, 13, 14, 15, 50, 60, 61]) {
      assert.deepEqual(await seqs(reader, { chain: 'main', fromSeq: from, limit: 5 }), all.filter((s) => s >= from).slice(0, 5), `from ${from}`);
    }
    // Types are read without parsing the rows of other types, with the same result.
    const requests = await seqs(reader, { chain: 'main', types: ['request'] });
    assert.deepEqual(requests, all.filter((s) => (s - 1) % 3 === 0));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a rows file whose order was changed is read whole, as it is, by the verifier, which names the break', async () => {
    const { dir, info } = await segment();
    const file = join(dir, 'main.rows.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    [lines[20], lines[40]] = [lines[40] as string, lines[20] as string];
    writeFileSync(file, `${lines.join('\n')}\n`);
    const reader = openSegmentReader(dir, info, { indexEvery: 7 });
    const all = await seqs(reader, { chain: 'main' });
    assert.equal(all.length, 60);
    assert.deepEqual([all[20], all[40]], [41, 21]);
    const report = await verifyLedger(reader, { publicKey: exportLedgerPublicKey(dataDir), segments: { main: { fromSeq: 1, prevHash: info.chains[0]!.prevHash } } });
    assert.equal(report.ok, false);
    rmSync(dir, { recursive: true, force: true });
  });
});
