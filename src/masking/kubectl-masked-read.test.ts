/**
 * Real kubectl against masked responses: a minimal Kubernetes API double (discovery plus
 * Secrets) on 127.0.0.1 port 0 whose Secret responses pass through createSecretMaskStream,
 * the way the gateway will use it. Proves that kubectl accepts what the masker emits (get,
 * -o yaml/json, Tables, watches, describe) and that no planted value reaches its output.
 *
 * kubectl is the Google Cloud SDK dispatcher; the versioned binaries beside it are pinned by
 * full path (1.27: JSON everywhere; 1.33: protobuf-preferring typed clients). Skipped when
 * kubectl is not installed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { createPlaceholder, MASKED_ANNOTATION } from './placeholder.js';
import { createSecretMaskStream, type SecretMaskShape } from './secret-mask-stream.js';
import { bytesCarryPlaceholder, findMaskedPlaceholders, placeholderWriteError } from './write-back-guard.js';
import { decodePlaceholder, Planted, secret, secretList, table } from './test-fixtures.js';

const run = promisify(execFile);
const placeholder = createPlaceholder(Buffer.alloc(32, 11));
const planted = new Planted();
const db = secret(planted, { name: 'db', lastApplied: true });
const list = secretList(planted, 3, { lastApplied: true });

function kubectlDir(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'kubectl');
    if (existsSync(candidate)) return dirname(realpathSync(candidate));
  }
  return undefined;
}

const dir = kubectlDir();
const versions = ['1.27', '1.33'].filter((v) => dir && existsSync(join(dir, `kubectl.${v}`)));

/** serveMasked writes a raw upstream body through the mask stream, in small chunks. */
async function serveMasked(res: ServerResponse, body: string, shape: SecretMaskShape): Promise<void> {
  res.setHeader('content-type', 'application/json');
  const chunks = Buffer.from(body).toString('latin1').match(/[\s\S]{1,97}/g) ?? [];
  await pipeline(Readable.from(chunks.map((c) => Buffer.from(c, 'latin1'))), createSecretMaskStream({ shape, placeholder }), res);
}

function discovery(path: string): unknown {
  if (path === '/version') return { major: '1', minor: '33', gitVersion: 'v1.33.0' };
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] };
  if (path === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: [] };
  if (path === '/api/v1') {
    const verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
    return {
      kind: 'APIResourceList',
      groupVersion: 'v1',
      resources: [
        { name: 'secrets', singularName: 'secret', namespaced: true, kind: 'Secret', verbs },
        { name: 'events', singularName: 'event', namespaced: true, kind: 'Event', verbs },
      ],
    };
  }
  if (path === '/api/v1/namespaces/default/events') return { kind: 'EventList', apiVersion: 'v1', metadata: {}, items: [] };
  return undefined;
}

/**
 * refuseWriteBack answers a Secret write the way the gateway will: parse what can be parsed,
 * scan the rest as bytes (kubectl ≥1.32 sends protobuf), and refuse placeholders with a 400.
 */
async function refuseWriteBack(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  let paths: string[];
  try {
    paths = findMaskedPlaceholders(JSON.parse(body.toString('utf8')));
  } catch {
    paths = bytesCarryPlaceholder(body) ? ['the request body'] : [];
  }
  res.setHeader('content-type', 'application/json');
  if (paths.length === 0) {
    res.statusCode = 201;
    res.end(body);
    return;
  }
  const err = placeholderWriteError(paths);
  res.statusCode = err.status;
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: 'BadRequest', code: err.status }));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake');
  if (req.method !== 'GET') return refuseWriteBack(req, res);
  const wantsTable = (req.headers.accept ?? '').includes('as=Table');
  const found = discovery(url.pathname);
  if (found) {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(found));
    return;
  }
  if (url.pathname === '/api/v1/namespaces/default/secrets/db') return serveMasked(res, JSON.stringify(db), 'object');
  if (url.pathname === '/api/v1/namespaces/default/secrets') {
    const watch = url.searchParams.has('watch') && url.searchParams.get('watch') !== 'false';
    if (watch) {
      const object = wantsTable ? { ...table(planted, 1, 'Metadata'), columnDefinitions: [] } : secret(planted, { name: 'watched' });
      return serveMasked(res, JSON.stringify({ type: 'MODIFIED', object }) + '\n', 'watch');
    }
    if (wantsTable) return serveMasked(res, JSON.stringify(table(planted, 3, url.searchParams.get('includeObject') === 'Object' ? 'Object' : 'Metadata')), 'table');
    return serveMasked(res, JSON.stringify(list), 'list');
  }
  res.statusCode = 404;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound', message: 'not in the double' }));
}

describe('kubectl reads masked Secrets', { skip: versions.length === 0 ? 'kubectl not installed' : false }, () => {
  let server: Server;
  let home: string;
  let kubeconfig: string;

  before(async () => {
    server = createServer((req, res) => {
      handle(req, res).catch((err: unknown) => res.destroy(err as Error));
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    home = mkdtempSync(join(tmpdir(), 'airlock-kubectl-'));
    kubeconfig = join(home, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]`,
        'users: [{name: u, user: {token: test-token}}]',
        'contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]',
        'current-context: x',
      ].join('\n'),
    );
  });

  after(() => {
    server.close();
    rmSync(home, { recursive: true, force: true });
  });

  async function kubectl(version: string, ...args: string[]): Promise<string> {
    const { stdout, stderr } = await run(join(dir!, `kubectl.${version}`), ['--kubeconfig', kubeconfig, '--cache-dir', join(home, `cache-${version}`), '--request-timeout=30s', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: home },
    });
    assert.deepEqual(planted.leaks(stdout + stderr), [], 'no planted value reaches kubectl output');
    return stdout;
  }

  for (const version of versions) {
    it(`kubectl ${version} get secret -o yaml shows every key, and each value base64-decodes to a placeholder`, async () => {
      const shown = parseYaml(await kubectl(version, 'get', 'secret', 'db', '-o', 'yaml')) as Record<string, any>;
      assert.deepEqual(Object.keys(shown.data).sort(), Object.keys(db.data as object).sort());
      for (const value of Object.values(shown.data)) assert.ok(decodePlaceholder(value));
      assert.equal(shown.metadata.annotations[MASKED_ANNOTATION], 'data');
    });

    it(`kubectl ${version} get secrets -o json lists masked items`, async () => {
      const shown = JSON.parse(await kubectl(version, 'get', 'secrets', '-o', 'json')) as { items: Record<string, any>[] };
      assert.equal(shown.items.length, 3);
      for (const item of shown.items) for (const value of Object.values(item.data)) assert.ok(decodePlaceholder(value));
    });

    it(`kubectl ${version} get secrets prints the Table (and --sort-by asks for full objects)`, async () => {
      assert.match(await kubectl(version, 'get', 'secrets'), /t0\s+Opaque\s+2/);
      assert.match(await kubectl(version, 'get', 'secrets', '--sort-by=.metadata.name'), /t2\s+Opaque\s+2/);
    });

    it(`kubectl ${version} get secrets -w prints a masked watch event`, async () => {
      const out = await kubectl(version, 'get', 'secrets', '--watch-only', '-o', 'json');
      assert.match(out, /"name": "watched"/);
      assert.ok(out.includes(MASKED_ANNOTATION));
    });

    it(`kubectl ${version} replace -f of a masked read is refused with a message that says what to do`, async () => {
      const file = join(home, `db-${version}.yaml`);
      writeFileSync(file, await kubectl(version, 'get', 'secret', 'db', '-o', 'yaml'));
      const err = await kubectl(version, 'replace', '--validate=false', '-f', file).then(
        () => assert.fail('the write-back was accepted'),
        (e: { stderr: string }) => e,
      );
      assert.match(err.stderr, /BadRequest/);
      assert.match(err.stderr, /read through airlock with masked values; write the real values explicitly/);
    });

    it(`kubectl ${version} create secret --from-literal with a pasted placeholder is refused`, async () => {
      const pasted = Buffer.from(placeholder.marker('password', 'x')).toString('base64');
      const err = await kubectl(version, 'create', 'secret', 'generic', 'copy', `--from-literal=password=${pasted}`).then(
        () => assert.fail('the write-back was accepted'),
        (e: { stderr: string }) => e,
      );
      assert.match(err.stderr, /read through airlock with masked values/);
    });

    it(`kubectl ${version} describe secret shows placeholder lengths, not values`, async () => {
      assert.match(await kubectl(version, 'describe', 'secret', 'db'), /password:\s+27 bytes/);
    });
  }
});
