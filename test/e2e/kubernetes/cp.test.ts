/**
 * kubectl cp through airlock, over WebSocket (kubectl 1.33) and over SPDY/3.1 (kubectl 1.27,
 * and kubectl 1.33 with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false), an exec of `tar` either way:
 * files arrive intact both ways — a file that holds a secret-looking value too, since masking
 * never touches the archive — and each copy is recorded as a file transfer — direction, file
 * names and sizes in the session's final entry — with no archive bytes recorded as terminal
 * text and no file content anywhere in the ledger.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeTerminalBatch } from '../../../src/evidence/terminal-batch.js';
import type { LedgerEntry } from '../../../src/ledger/index.js';
import { PLANTED_SECRETS } from '../../fixtures/fake-apiserver/index.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl, type KubectlClient } from '../../support/kubectl.js';

const POD = 'web-7d4b9c6f5-k2x8p';

/** Every byte value, twice, so a text decoding anywhere would show. */
const binary = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));

/** The exec transports kubectl cp runs over: `tag` keeps each case's files apart. */
const cases = [
  { name: 'kubectl 1.33 (WebSocket)', minor: 33, env: {}, tag: 'ws' },
  { name: 'kubectl 1.27 (SPDY)', minor: 27, env: {}, tag: 'spdy27' },
  { name: 'kubectl 1.33 with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false (SPDY)', minor: 33, env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }, tag: 'spdy33' },
] as const;

/**
 * sessionEnd waits for the final entry of the exec whose command matches; it is written just
 * after the stream closes, so it may land a moment after kubectl has exited.
 */
async function sessionEnd(h: GatewayHarness, match: (command: string[]) => boolean): Promise<{ request: LedgerEntry; end: LedgerEntry; streams: LedgerEntry[] }> {
  // The request entry is durable before the exec is forwarded; the final one may follow kubectl's exit.
  const request = (await h.entries()).findLast((e) => e.type === 'request' && e.action?.subresource === 'exec' && match((e.action?.command as string[] | undefined) ?? []));
  if (!request) throw new Error('the exec request was not recorded');
  const end = await h.waitForEntry((e) => e.type === 'response' && e.data?.requestId === request.id, 'the end of the session');
  const streams = (await h.entries()).filter((e) => e.type === 'stream' && e.data?.requestId === request.id);
  return { request, end, streams };
}

describe('kubectl cp through airlock', () => {
  let h: GatewayHarness;
  let dir: string;
  const clients = new Map<number, KubectlClient>();

  before(async () => {
    h = await startGatewayHarness();
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-cp-'));
    const kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:operator', groups: ['ci'] });
    for (const minor of [27, 33]) {
      const client = kubectlClient(minor, { home: mkdtempSync(join(dir, `home-${minor}-`)), kubeconfig });
      if (client) clients.set(minor, client);
    }
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const c of cases) {
    it(`${c.name}: an upload arrives intact and is recorded as an upload with its file name and size, not as terminal text`, { skip: missingKubectl(c.minor) }, async () => {
      const name = `uploaded-${c.tag}.bin`;
      const local = join(dir, `payload-${c.tag}.bin`);
      writeFileSync(local, binary);
      const res = await clients.get(c.minor)!.run(['cp', local, `${POD}:/tmp/${name}`], { env: c.env });
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(h.fake.readPodFile('default', POD, `/tmp/${name}`), binary);

      const { end, streams } = await sessionEnd(h, (cmd) => cmd[0] === 'tar' && cmd.some((a) => a.includes('x')));
      const transfer = end.data?.transfer as { kind: string; direction: string; files: Array<{ name: string; size: number; type: string }>; complete: boolean; bytes: number };
      assert.equal(transfer?.kind, 'cp', 'the session is recorded as a file transfer');
      assert.equal(transfer.direction, 'upload');
      assert.deepEqual(transfer.files.filter((f) => f.type === 'file'), [{ name, size: binary.length, type: 'file' }]);
      assert.equal(transfer.complete, true);
      assert.ok(transfer.bytes >= 1024 + binary.length, 'the archive bytes are counted');
      assert.equal((end.data?.bytes as { stdin: number }).stdin, transfer.bytes);
      const events = streams.flatMap((s) => decodeTerminalBatch(Buffer.from(s.response?.inline ?? ''), s.response?.contentType));
      assert.deepEqual(events.filter((e) => e.kind === 'i' || e.kind === 'o'), [], 'no archive bytes are recorded as terminal text');
      assert.deepEqual(events.filter((e) => e.kind === 'x'), [{ ...events.find((e) => e.kind === 'x'), kind: 'x', data: '0' }]);
    });

    it(`${c.name}: a directory download arrives intact, secret-looking content included, and is recorded as a download listing each file`, { skip: missingKubectl(c.minor) }, async () => {
      const marker = `cp-content-${c.tag}-${Date.now()}`;
      const envFile = `AWS_ACCESS_KEY_ID=${PLANTED_SECRETS.awsAccessKeyId}\nAWS_SECRET_ACCESS_KEY=${PLANTED_SECRETS.awsSecretAccessKey}\n`;
      const remote = `/app/data-${c.tag}`;
      h.fake.writePodFile('default', POD, `${remote}/report.txt`, `${marker}\n`);
      h.fake.writePodFile('default', POD, `${remote}/nested/blob.bin`, binary);
      h.fake.writePodFile('default', POD, `${remote}/app.env`, envFile);
      const local = join(dir, `down-${c.tag}`);
      mkdirSync(local);
      const res = await clients.get(c.minor)!.run(['cp', `${POD}:${remote}`, join(local, 'data')], { env: c.env });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(readFileSync(join(local, 'data', 'report.txt'), 'utf8'), `${marker}\n`);
      assert.deepEqual(readFileSync(join(local, 'data', 'nested', 'blob.bin')), binary);
      assert.equal(readFileSync(join(local, 'data', 'app.env'), 'utf8'), envFile, 'the archive passes unmasked: a copy is byte for byte');

      const { end, streams } = await sessionEnd(h, (cmd) => cmd[0] === 'tar' && cmd[1] === 'cf' && cmd.includes(remote));
      const transfer = end.data?.transfer as { kind: string; direction: string; files: Array<{ name: string; size: number; type: string }>; complete: boolean };
      assert.equal(transfer?.kind, 'cp', 'the session is recorded as a file transfer');
      assert.equal(transfer.direction, 'download');
      assert.equal(transfer.complete, true);
      const files = transfer.files.filter((f) => f.type === 'file').map((f) => [f.name.replace(/^\/?/, ''), f.size]);
      assert.deepEqual(files.sort(), [
        [`app/data-${c.tag}/app.env`, envFile.length],
        [`app/data-${c.tag}/nested/blob.bin`, binary.length],
        [`app/data-${c.tag}/report.txt`, marker.length + 1],
      ]);
      const events = streams.flatMap((s) => decodeTerminalBatch(Buffer.from(s.response?.inline ?? ''), s.response?.contentType));
      assert.ok(!events.some((e) => e.kind === 'o'), 'the archive on stdout is not recorded as terminal text');
      const ledgerText = JSON.stringify(await h.entries()) + readFileSync(h.ledgerFile).toString('latin1');
      for (const content of [marker, PLANTED_SECRETS.awsAccessKeyId, PLANTED_SECRETS.awsSecretAccessKey]) {
        assert.ok(!ledgerText.includes(content), `no file content is in the ledger (${content})`);
      }
      assert.equal((await h.verify()).ok, true);
    });

    it(`${c.name}: an exec that is not tar on the standard streams is still recorded as terminal text`, { skip: missingKubectl(c.minor) }, async () => {
      const word = `not-a-copy-${c.tag}`;
      const res = await clients.get(c.minor)!.run(['exec', POD, '--', 'echo', word], { env: c.env });
      assert.equal(res.code, 0, res.stderr);
      const { end, streams } = await sessionEnd(h, (cmd) => cmd.includes(word));
      assert.equal(end.data?.transfer, undefined);
      const events = streams.flatMap((s) => decodeTerminalBatch(Buffer.from(s.response?.inline ?? ''), s.response?.contentType));
      assert.ok(events.some((e) => e.kind === 'o' && e.data === `${word}\n`));
    });
  }
});
