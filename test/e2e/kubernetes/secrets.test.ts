/**
 * Secrets through airlock: every way a real client reads a Secret (kubectl get -o yaml/json,
 * describe, the Table of `get secrets`, client-node) shows every key with a placeholder that
 * base64-decodes to an `airlock-masked:` marker, while a Secret written through airlock lands
 * in the cluster with its real value. Afterwards no clear value — neither the fake's seeded
 * ones nor the ones planted through airlock — appears in anything a client printed, in any
 * ledger entry, or anywhere in the ledger's SQLite files.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { SEEDED_SECRET_VALUES } from '../../fixtures/fake-apiserver/index.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, kubectlMinors, missingKubectl, type KubectlClient, type KubectlRun } from '../../support/kubectl.js';

const MARKER = /^airlock-masked:[0-9a-f]{12}$/;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

interface SecretLike {
  data?: Record<string, string>;
  metadata?: { annotations?: Record<string, string> };
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** assertMasked: the keys are kept, every value (and the last-applied copy) decodes to a marker. */
function assertMasked(secret: SecretLike, where: string): void {
  assert.deepEqual(Object.keys(secret.data ?? {}).sort(), ['password', 'username'], `${where}: keys kept`);
  for (const [key, value] of Object.entries(secret.data ?? {})) assert.match(unb64(value), MARKER, `${where}: data.${key}`);
  const applied = JSON.parse(secret.metadata?.annotations?.[LAST_APPLIED] ?? '{}') as SecretLike;
  assert.deepEqual(Object.keys(applied.data ?? {}).sort(), ['password', 'username'], `${where}: last-applied keys kept`);
  for (const [key, value] of Object.entries(applied.data ?? {})) assert.match(unb64(value), MARKER, `${where}: last-applied data.${key}`);
}

let h: GatewayHarness;
let dir: string;
let kubeconfig: string;
const clients = new Map<number, KubectlClient>();
/** Everything a client printed or returned, scanned for clear values at the end. */
const printed: string[] = [];
/** Values written through airlock with `create secret generic`. */
const planted: string[] = [];

async function kubectl(minor: number, args: string[]): Promise<KubectlRun> {
  const result = await clients.get(minor)!.run(args);
  printed.push(result.stdout, result.stderr);
  return result;
}

before(async () => {
  h = await startGatewayHarness();
  dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-secrets-'));
  kubeconfig = await h.writeKubeconfig(dir, { subject: 'agent:secrets', groups: ['ci'] });
  for (const minor of kubectlMinors) {
    const client = kubectlClient(minor, { home: mkdtempSync(join(dir, `home-${minor}-`)), kubeconfig });
    if (client) clients.set(minor, client);
  }
});

after(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('reading a Secret through airlock shows its keys with masked values', { concurrency: true }, () => {
  for (const minor of kubectlMinors) {
    it(`kubectl 1.${minor}: get secret -o yaml and -o json show every key, each value a masked marker, last-applied included`, { skip: missingKubectl(minor) }, async () => {
      const [yaml, json] = await Promise.all([
        kubectl(minor, ['get', 'secret', 'db-credentials', '-o', 'yaml']),
        kubectl(minor, ['get', 'secret', 'db-credentials', '-o', 'json']),
      ]);
      assert.equal(yaml.code, 0, yaml.stderr);
      assert.equal(json.code, 0, json.stderr);
      assertMasked(parseYaml(yaml.stdout) as SecretLike, '-o yaml');
      assertMasked(JSON.parse(json.stdout) as SecretLike, '-o json');
    });

    it(`kubectl 1.${minor}: describe secret and get secrets show keys and counts, never a value`, { skip: missingKubectl(minor) }, async () => {
      const [describeOut, table] = await Promise.all([
        kubectl(minor, ['describe', 'secret', 'db-credentials']),
        kubectl(minor, ['get', 'secrets']),
      ]);
      assert.equal(describeOut.code, 0, describeOut.stderr);
      // The placeholder's length: `airlock-masked:` and 12 hex digits.
      assert.match(describeOut.stdout, /^username:\s+27 bytes$/m);
      assert.match(describeOut.stdout, /^password:\s+27 bytes$/m);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^NAME\s+TYPE\s+DATA\s+AGE$/m);
      assert.match(table.stdout, /^db-credentials\s+Opaque\s+2\s/m);
    });
  }

  it('client-node readNamespacedSecret returns the keys with masked values', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(readFileSync(kubeconfig, 'utf8'));
    const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: 'db-credentials', namespace: 'default' });
    printed.push(JSON.stringify(secret));
    assertMasked(secret as SecretLike, 'client-node');
  });

  for (const [minor, body] of [[33, 'protobuf'], [27, 'JSON']] as const) {
    it(`kubectl 1.${minor}: create secret generic (${body} body) stores the real value in the cluster`, { skip: missingKubectl(minor) }, async () => {
      const name = `planted-1-${minor}`;
      const value = `planted-${randomBytes(12).toString('hex')}`;
      planted.push(value);
      const created = await kubectl(minor, ['create', 'secret', 'generic', name, `--from-literal=token=${value}`]);
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, new RegExp(`secret/${name} created`));
      // The write passes unchanged: the cluster holds the clear value.
      assert.equal((h.fake.get('secrets', name, 'default') as SecretLike | undefined)?.data?.token, b64(value));

      const posts = h.fake.received.filter((r) => r.method === 'POST' && r.path === '/api/v1/namespaces/default/secrets' && r.body.includes(Buffer.from(name)));
      const contentTypes = posts.map((r) => `${r.query.get('dryRun') ?? 'real'} ${r.headers['content-type']?.[0]}`);
      if (body === 'protobuf') {
        // airlock cannot record a protobuf body as is: it asks the cluster (dry-run) for the JSON object first.
        assert.deepEqual(contentTypes, ['All application/vnd.kubernetes.protobuf', 'real application/vnd.kubernetes.protobuf']);
      } else {
        assert.deepEqual(contentTypes, ['real application/json']);
      }
    });
  }
});

it('no clear Secret value appears in client output, in any ledger entry, or in the ledger files', async () => {
  assert.equal(planted.length, [33, 27].filter((m) => !missingKubectl(m)).length, 'every create ran');
  // `app` (the seeded username) is too short to search for as text (`app: web` is a label), so
  // it is searched in its base64 form, the form `data` carries; longer values in both forms.
  const needles = [
    SEEDED_SECRET_VALUES.password,
    b64(SEEDED_SECRET_VALUES.password),
    b64(SEEDED_SECRET_VALUES.username),
    ...planted.flatMap((v) => [v, b64(v)]),
  ];
  const seededNeedles = needles.slice(0, 3);
  // A control: the needles are right, since the cluster did receive each planted value (raw
  // bytes in a protobuf body, base64 in a JSON one).
  for (const value of planted) {
    assert.ok(h.fake.received.some((r) => r.body.includes(Buffer.from(value)) || r.body.includes(Buffer.from(b64(value)))), `the cluster received ${value}`);
  }
  const output = printed.join('\n');
  for (const needle of seededNeedles) assert.ok(!output.includes(needle), `client output carries ${needle}`);

  const entries = await h.entries();
  assert.ok(entries.some((e) => e.type === 'request' && e.action?.resource === 'secrets' && e.action.verb === 'create'), 'the creates are recorded');
  const ledgerText = JSON.stringify(entries);
  for (const needle of needles) assert.ok(!ledgerText.includes(needle), `a ledger entry carries ${needle}`);

  // The database and its write-ahead log, byte for byte: blobs and not-yet-checkpointed pages included.
  const files = readdirSync(dirname(h.ledgerFile)).filter((f) => f.startsWith(basename(h.ledgerFile)));
  assert.ok(files.length >= 1);
  for (const file of files) {
    const bytes = readFileSync(join(dirname(h.ledgerFile), file));
    for (const needle of needles) assert.equal(bytes.indexOf(needle), -1, `${file} carries ${needle}`);
  }
});
