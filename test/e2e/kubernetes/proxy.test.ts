/**
 * What a proxy request fetches from inside the cluster (`pods/<name>/proxy/<path>`, and the same
 * for services and nodes) is whatever an application serves: its text is masked with the stream
 * detectors before the caller and the ledger see it, as container logs are. A binary answer
 * passes unchanged (masking would corrupt it) and is recorded by size and digest only, never
 * by content.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl } from '../../support/kubectl.js';

const POD = 'web-7d4b9c6f5-k2x8p';
// Synthetic credentials, shaped as the detectors know them; none grants anything.
const PASSWORD = 'proxied-password-4f2c9a1e';
const GITHUB = `ghp_${'Fake0Proxied1Token2For3Tests4Only5'.padEnd(36, 'x')}`;
const BINARY_SECRET = 'binary-carried-password-77aa';

describe('proxy requests through airlock', () => {
  let h: GatewayHarness;
  let dir: string;
  let token: string;
  const path = (file: string) => `/k8s/${h.connection}/api/v1/namespaces/default/pods/${POD}/proxy${file}`;

  before(async () => {
    h = await startGatewayHarness();
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-proxy-'));
    token = await h.mintToken('agent:proxy', ['ci']);
    h.fake.writePodFile('default', POD, '/config.json', JSON.stringify({ service: 'orders', db_password: PASSWORD, deploy_key: GITHUB }));
    h.fake.writePodFile('default', POD, '/blob.bin', Buffer.concat([Buffer.from([0, 1, 2, 255]), Buffer.from(`password=${BINARY_SECRET}`)]));
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl 1.33 get --raw of a pod proxy path: the JSON answer arrives with its credentials masked', { skip: missingKubectl(33) }, async () => {
    const kubectl = kubectlClient(33, { home: mkdtempSync(join(dir, 'home-')), kubeconfig: await h.writeKubeconfig(dir, { subject: 'agent:proxy', groups: ['ci'] }) })!;
    const result = await kubectl.run(['get', '--raw', path('/config.json')]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!result.stdout.includes(PASSWORD) && !result.stdout.includes(GITHUB), result.stdout);
    assert.match(result.stdout, /"service":"orders"/);
    assert.match(result.stdout, /\[masked [a-z-]+\]/);
  });

  it('a binary answer passes unmasked and is recorded by size and digest only', async () => {
    const res = await h.request(path('/blob.bin'), { token });
    assert.equal(res.status, 200);
    assert.ok(res.body.endsWith(`password=${BINARY_SECRET}`), 'not masked: masking would corrupt a binary answer');
    const entries = await h.entries();
    const request = entries.findLast((e) => e.type === 'request' && String(e.data?.target ?? '').endsWith('/proxy/blob.bin'));
    assert.ok(request, 'the proxy request is recorded');
    const parts = entries.filter((e) => e.type === 'stream' && e.data?.requestId === request.id);
    assert.ok(parts.length > 0, 'its answer is recorded');
    const blob = Buffer.concat([Buffer.from([0, 1, 2, 255]), Buffer.from(`password=${BINARY_SECRET}`)]);
    assert.deepEqual(parts.map((p) => [p.response?.size, p.response?.fullSize, p.response?.fullSha256]), [[0, blob.length, createHash('sha256').update(blob).digest('hex')]]);
  });

  it('no proxied credential is in any ledger entry or in the ledger files', async () => {
    const text = JSON.stringify(await h.entries()) + readFileSync(h.ledgerFile).toString('latin1') + readFileSync(`${h.ledgerFile}-wal`).toString('latin1');
    for (const secret of [PASSWORD, GITHUB, BINARY_SECRET]) assert.ok(!text.includes(secret), `the ledger holds ${secret}`);
  });
});
