import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { openLedger, openLedgerReader, readWitnessFile } from './index.js';
import { createWitnesses } from './witness.js';
import type { Checkpoint } from './types.js';

const dirs: string[] = [];
const servers: Server[] = [];
after(async () => {
  for (const s of servers) s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'airlock-witness-'));
  dirs.push(d);
  return d;
}

/** witnessServer answers POSTs with the statuses given, then 200, recording what it received. */
async function witnessServer(statuses: number[] = []): Promise<{ url: string; received: { headers: IncomingHttpHeaders; body: Checkpoint }[]; attempts: () => number }> {
  const received: { headers: IncomingHttpHeaders; body: Checkpoint }[] = [];
  let attempts = 0;
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const status = statuses[attempts++] ?? 200;
      if (status === 200) received.push({ headers: req.headers, body: JSON.parse(text) as Checkpoint });
      res.writeHead(status).end();
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/checkpoints`, received, attempts: () => attempts };
}

function capturingLogger(): { logger: pino.Logger; text: () => string } {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), text: () => out };
}

const sample: Checkpoint = { chain: 'main', seq: 10, hash: 'a'.repeat(64), time: '2025-01-01T00:00:00.000Z', keyId: '0123456789abcdef', signature: 'sig' };

test('every stored checkpoint is also appended to the file witness and POSTed to the HTTP witness', async () => {
  const dataDir = tempDir();
  const file = join(tempDir(), 'witness.jsonl');
  const http = await witnessServer();
  const token = 'Bearer witness-token-0451';
  const ledger = await openLedger({
    dataDir,
    store: { kind: 'sqlite' },
    checkpoint: { entries: 5, intervalMs: 3_600_000 },
    witness: [{ file }, { url: http.url, headers: { authorization: token } }],
  });
  for (let i = 0; i < 12; i++) await ledger.append({ type: 'request', data: { i } });
  await ledger.close();

  const reader = await openLedgerReader({ dataDir, store: { kind: 'sqlite' } });
  const stored = await reader.checkpoints('main');
  await reader.close();
  assert.deepEqual(stored.map((c) => c.seq), [5, 10, 12]);
  assert.deepEqual((await readWitnessFile(file)).checkpoints, stored);
  assert.deepEqual(http.received.map((r) => r.body), stored);
  assert.ok(http.received.every((r) => r.headers.authorization === token && r.headers['content-type'] === 'application/json'));
});

test('an HTTP witness that fails for a while is retried until it accepts', async () => {
  const http = await witnessServer([503, 502]);
  const witnesses = createWitnesses([{ url: http.url }], pino({ level: 'silent' }), 1);
  await witnesses.publish(sample);
  assert.equal(http.attempts(), 3);
  assert.deepEqual(http.received.map((r) => r.body), [sample]);
  assert.deepEqual(witnesses.errors(), []);
});

test('a witness that keeps failing is reported in health and logged, never with its credentials', async () => {
  const http = await witnessServer([500, 500, 500, 500, 500]);
  const { logger, text } = capturingLogger();
  const secret = 'witness-secret-77';
  const witnesses = createWitnesses(
    [{ url: `${http.url}?token=${secret}`, headers: { authorization: `Bearer ${secret}` } }, { file: join(tempDir(), 'missing-dir', 'w.jsonl') }],
    logger,
    1,
  );
  await witnesses.publish(sample);
  const errors = witnesses.errors();
  assert.equal(errors.length, 2);
  assert.match(errors[0] ?? '', /HTTP 500/);
  assert.match(errors[1] ?? '', /ENOENT/);
  assert.equal(http.attempts(), 4);
  for (const where of [errors.join('\n'), text()]) assert.ok(!where.includes(secret), `the witness credential leaked: ${where}`);
  assert.match(text(), /witness/);
});

test('a 4xx answer is final: the witness is not hammered with retries', async () => {
  const http = await witnessServer([401, 401, 401]);
  const witnesses = createWitnesses([{ url: http.url }], pino({ level: 'silent' }), 1);
  await witnesses.publish(sample);
  assert.equal(http.attempts(), 1);
  assert.match(witnesses.errors()[0] ?? '', /HTTP 401/);
});

test('unreadable witness lines are reported by number, not skipped silently', async () => {
  const file = join(tempDir(), 'w.jsonl');
  writeFileSync(file, `${JSON.stringify(sample)}\nnot json\n{"chain":"main"}\n\n`);
  const read = await readWitnessFile(file);
  assert.deepEqual(read, { checkpoints: [sample], bad: [2, 3] });
});
