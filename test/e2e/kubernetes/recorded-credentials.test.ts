/**
 * Credentials that objects other than Secrets carry in the clear — a ConfigMap key named like a
 * password, a container's env literal, a database URL with its password, kubectl's
 * last-applied copy of all of these — reach the cluster and the caller as they are (RBAC allows
 * them), but the ledger's copies of requests and answers hold them masked.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl, type KubectlClient } from '../../support/kubectl.js';

// Synthetic credentials; none grants anything anywhere.
const CONFIG_PASSWORD = 'configmap-password-5e4d3c2b';
const ENV_TOKEN = 'env-literal-token-8f7e6d5c';
const URL_PASSWORD = 'url-password-1a2b3c4d';

const MANIFEST = `apiVersion: v1
kind: ConfigMap
metadata: {name: orders-config}
data:
  DB_PASSWORD: ${CONFIG_PASSWORD}
  DATABASE_URL: postgres://orders:${URL_PASSWORD}@db.internal:5432/orders
  mode: blue
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders, labels: {app: orders}}
spec:
  replicas: 1
  selector: {matchLabels: {app: orders}}
  template:
    metadata: {labels: {app: orders}}
    spec:
      containers:
      - name: orders
        image: registry.example/orders:1.0
        env:
        - {name: API_TOKEN, value: ${ENV_TOKEN}}
        - {name: LOG_LEVEL, value: debug}
`;

describe('credentials in ordinary objects, through airlock', () => {
  let h: GatewayHarness;
  let dir: string;
  let kubectl: KubectlClient;
  before(async () => {
    h = await startGatewayHarness();
    dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-recorded-'));
    const client = kubectlClient(33, { home: mkdtempSync(join(dir, 'home-')), kubeconfig: await h.writeKubeconfig(dir, { subject: 'agent:deployer', groups: ['ci'] }) });
    if (client) kubectl = client;
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl 1.33 apply and get: the cluster and the caller have the values; the ledger has them masked, as valid JSON', { skip: missingKubectl(33) }, async () => {
    writeFileSync(join(dir, 'orders.yaml'), MANIFEST);
    const applied = await kubectl.run(['apply', '-f', join(dir, 'orders.yaml')]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal((h.fake.get('configmaps', 'orders-config', 'default') as { data?: Record<string, string> }).data?.DB_PASSWORD, CONFIG_PASSWORD, 'the cluster got the value as written');
    const read = await kubectl.run(['get', 'configmap', 'orders-config', '-o', 'yaml']);
    assert.match(read.stdout, new RegExp(`DB_PASSWORD: ${CONFIG_PASSWORD}`), 'the caller reads what the cluster holds');
    const deployment = await kubectl.run(['get', 'deployment', 'orders', '-o', 'json']);
    assert.ok(deployment.stdout.includes(ENV_TOKEN));

    const entries = await h.entries();
    const text = JSON.stringify(entries) + readFileSync(h.ledgerFile).toString('latin1') + readFileSync(`${h.ledgerFile}-wal`).toString('latin1');
    for (const secret of [CONFIG_PASSWORD, ENV_TOKEN, URL_PASSWORD]) assert.ok(!text.includes(secret), `the ledger holds ${secret}`);
    // The recorded bodies are still the JSON that passed, with markers where the values were.
    const createBody = entries.find((e) => e.type === 'request' && e.action?.resource === 'configmaps' && e.action?.verb === 'create')?.request?.inline;
    const recorded = JSON.parse(String(createBody)) as { data: Record<string, string> };
    assert.equal(recorded.data.DB_PASSWORD, '[masked credential-assignment]');
    assert.equal(recorded.data.DATABASE_URL, 'postgres://orders:[masked database-password]@db.internal:5432/orders');
    assert.equal(recorded.data.mode, 'blue');
  });

  it('kubectl 1.33 get configmaps -w: the caller sees the event; the ledger records it masked', { skip: missingKubectl(33) }, async () => {
    const WATCHED = 'watched-token-3c2b1a09';
    const watch = kubectl.start(['get', 'configmaps', '-w', '-o', 'json']);
    try {
      await watch.waitFor(/"kind": "ConfigMap"/);
      h.fake.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'watched-config', namespace: 'default' }, data: { API_TOKEN: WATCHED } });
      await watch.waitFor(new RegExp(WATCHED));
    } finally {
      await watch.stop();
    }
    const request = (await h.entries()).findLast((e) => e.type === 'request' && e.action?.verb === 'watch' && e.action?.resource === 'configmaps')!;
    const parts = (await h.entries()).filter((e) => e.type === 'stream' && e.data?.requestId === request.id);
    assert.ok(parts.some((p) => String(p.response?.inline ?? '').includes('watched-config')), 'the event is recorded');
    const text = JSON.stringify(await h.entries()) + readFileSync(h.ledgerFile).toString('latin1') + readFileSync(`${h.ledgerFile}-wal`).toString('latin1');
    assert.ok(!text.includes(WATCHED), 'the ledger holds the watched value');
  });
});
