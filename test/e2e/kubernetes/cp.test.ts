/**
 * kubectl cp through airlock (kubectl 1.33, WebSocket exec of `tar`): files arrive intact both
 * ways, and each copy is recorded as a file transfer — direction, file names and sizes in the
 * session's final entry — with no archive bytes recorded as terminal text and no file content
 * anywhere in the ledger.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LedgerEntry } from '../../../src/ledger/index.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl, type KubectlClient } from '../../support/kubectl.js';

const POD = 'web-7d4b9c6f5-k2x8p';

/** Every byte value, twice, so a text decoding anywhere would show. */
const binary = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));

/**
 * sessionEnd waits for the final entry of the exec whose command matches; it is written just
 * after the stream closes, so it may land a moment after kubectl has exited.
 */
async function sessionEnd(h: GatewayHarness, match: (command: string[]) => boolean): Promise<{ request: LedgerEntry; end: LedgerEntry; streams: LedgerEntry[] }> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const entries = await h.entries();
    const request = entries.findLast((e) => e.type === 'request' && e.action?.subresource === 'exec' && match((e.action?.command as string[] | undefined) ?? []));
    const end = request && entries.find((e) => e.type === 'response' && e.data?.requestId === request.id);
    if (request && end) return { request, end, streams: entries.filter((e) => e.type === 'stream' && e.data?.requestId === request.id) };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the session end was not recorded');
}

describe('kubectl cp through airlock', { skip: missingKubectl(33) }, () => {
  let h: GatewayHarness;
  let dir: string;
  let kubectl: KubectlClient;

  before(async () => {
    h = await startGatewayHarness();
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-cp-'));
    const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:operator', groups: ['ci'] });
    kubectl = kubectlClient(33, { home: mkdtempSync(join(dir, 'home-')), kubeconfig })!;
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an upload arrives intact and is recorded as an upload with its file name and size, not as terminal text', async () => {
    const local = join(dir, 'payload.bin');
    writeFileSync(local, binary);
    const res = await kubectl.run(['cp', local, `${POD}:/tmp/uploaded.bin`]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(h.fake.readPodFile('default', POD, '/tmp/uploaded.bin'), binary);

    const { end, streams } = await sessionEnd(h, (c) => c[0] === 'tar' && c.some((a) => a.includes('x')));
    const transfer = end.data?.transfer as { kind: string; direction: string; files: Array<{ name: string; size: number; type: string }>; complete: boolean; bytes: number };
    assert.equal(transfer.kind, 'cp');
    assert.equal(transfer.direction, 'upload');
    assert.deepEqual(transfer.files.filter((f) => f.type === 'file'), [{ name: 'uploaded.bin', size: binary.length, type: 'file' }]);
    assert.equal(transfer.complete, true);
    assert.ok(transfer.bytes >= 1024 + binary.length, 'the archive bytes are counted');
    assert.equal((end.data?.bytes as { stdin: number }).stdin, transfer.bytes);
    const events = streams.flatMap((s) => JSON.parse(s.response?.inline ?? '[]') as Array<{ kind: string; data: string }>);
    assert.deepEqual(events.filter((e) => e.kind === 'i' || e.kind === 'o'), [], 'no archive bytes are recorded as terminal text');
    assert.deepEqual(events.filter((e) => e.kind === 'x'), [{ ...events.find((e) => e.kind === 'x'), kind: 'x', data: '0' }]);
  });

  it('a directory download arrives intact and is recorded as a download listing each file', async () => {
    const marker = `cp-content-${Date.now()}`;
    h.fake.writePodFile('default', POD, '/app/data/report.txt', `${marker}\n`);
    h.fake.writePodFile('default', POD, '/app/data/nested/blob.bin', binary);
    const local = join(dir, 'down');
    mkdirSync(local);
    const res = await kubectl.run(['cp', `${POD}:/app/data`, join(local, 'data')]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(readFileSync(join(local, 'data', 'report.txt'), 'utf8'), `${marker}\n`);
    assert.deepEqual(readFileSync(join(local, 'data', 'nested', 'blob.bin')), binary);

    const { end, streams } = await sessionEnd(h, (c) => c[0] === 'tar' && c[1] === 'cf');
    const transfer = end.data?.transfer as { kind: string; direction: string; files: Array<{ name: string; size: number; type: string }>; complete: boolean };
    assert.equal(transfer.direction, 'download');
    assert.equal(transfer.complete, true);
    const files = transfer.files.filter((f) => f.type === 'file').map((f) => [f.name.replace(/^\/?/, ''), f.size]);
    assert.deepEqual(files.sort(), [
      ['app/data/nested/blob.bin', binary.length],
      ['app/data/report.txt', marker.length + 1],
    ]);
    const events = streams.flatMap((s) => JSON.parse(s.response?.inline ?? '[]') as Array<{ kind: string }>);
    assert.ok(!events.some((e) => e.kind === 'o'), 'the archive on stdout is not recorded as terminal text');
    assert.ok(!JSON.stringify(await h.entries()).includes(marker), 'no file content is in the ledger');
    assert.ok(!readFileSync(h.ledgerFile).toString('latin1').includes(marker), 'no file content is in the ledger file');
    assert.equal((await h.verify()).ok, true);
  });

  it('an exec that is not tar on the standard streams is still recorded as terminal text', async () => {
    const res = await kubectl.run(['exec', POD, '--', 'echo', 'not-a-copy']);
    assert.equal(res.code, 0, res.stderr);
    const { end, streams } = await sessionEnd(h, (c) => c.includes('not-a-copy'));
    assert.equal(end.data?.transfer, undefined);
    const events = streams.flatMap((s) => JSON.parse(s.response?.inline ?? '[]') as Array<{ kind: string; data: string }>);
    assert.ok(events.some((e) => e.kind === 'o' && e.data === 'not-a-copy\n'));
  });
});
