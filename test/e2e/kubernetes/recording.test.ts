/**
 * The ledger as an auditor reads it after real kubectl traffic: every request has a
 * `request` entry (who, which connection, what, what was decided) and one `response` entry
 * pointing back at it; a watch's events are `stream` entries, numbered, before its closing
 * response; requests made with one token share a session and another token starts another;
 * no entry holds a token; and the offline verifier accepts the whole ledger afterwards.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { LedgerEntry } from '../../../src/ledger/index.js';
import { startGatewayHarness, type GatewayHarness } from '../../support/gateway-harness.js';
import { kubectlClient, missingKubectl } from '../../support/kubectl.js';

let h: GatewayHarness;
let dir: string;

before(async () => {
  h = await startGatewayHarness();
  dir = mkdtempSync(join(tmpdir(), 'airlock-e2e-recording-'));
});
after(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface OpenWatch {
  /** waitFor resolves with the first line received (past or future) that matches. */
  waitFor(pattern: RegExp): Promise<string>;
  /** ended resolves when the gateway ends the response. */
  ended: Promise<void>;
}

/** openWatch streams a raw watch through airlock, line by line. */
function openWatch(path: string, token: string): Promise<OpenWatch> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const waiters = new Set<() => void>();
    const req = httpsRequest(`${h.gatewayOrigin}${path}`, { ca: h.caCert, agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`watch answered ${res.statusCode}`));
        return;
      }
      let partial = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        lines.push(...parts.filter(Boolean));
        for (const w of [...waiters]) w();
      });
      const ended = new Promise<void>((done) => res.on('end', done));
      resolve({
        waitFor: (pattern) =>
          new Promise((found) => {
            const check = () => {
              const line = lines.find((l) => pattern.test(l));
              if (line === undefined) return;
              waiters.delete(check);
              found(line);
            };
            waiters.add(check);
            check();
          }),
        ended,
      });
    });
    req.on('error', reject);
    req.end();
  });
}

it('kubectl traffic and a watch are recorded: request and response entries, stream entries, sessions by token, a verifiable ledger', { skip: missingKubectl(33) }, async () => {
  const tokenA = await h.mintToken('agent:recorded', ['ci']);
  const tokenB = await h.mintToken('agent:recorded', ['ci']);
  const kubectlA = kubectlClient(33, { home: mkdtempSync(join(dir, 'home-a-')), kubeconfig: await h.writeKubeconfig(dir, { subject: 'agent:recorded', token: tokenA }) })!;
  const kubectlB = kubectlClient(33, { home: mkdtempSync(join(dir, 'home-b-')), kubeconfig: await h.writeKubeconfig(dir, { subject: 'agent:recorded', token: tokenB }) })!;
  const runs = await Promise.all([kubectlA.run(['get', 'pods']), kubectlA.run(['get', 'secret', 'db-credentials', '-o', 'yaml']), kubectlB.run(['get', 'ns'])]);
  for (const r of runs) assert.equal(r.code, 0, r.stderr);

  // A watch with token A: one event, then the cluster ends the stream (timeoutSeconds, as
  // the apiserver does), which makes airlock write the watch's closing response entry.
  const watch = await openWatch('/k8s/sandbox/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&labelSelector=recorded%3Dyes', tokenA);
  h.fake.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'recorded-event', namespace: 'default', labels: { recorded: 'yes' } }, data: { a: 'b' } });
  await watch.waitFor(/"name":"recorded-event"/);
  // The closing response entry is durable before the last byte is released.
  await watch.ended;

  const entries = await h.entries();
  const requests = entries.filter((e) => e.type === 'request' && e.identity?.subject === 'agent:recorded');
  assert.ok(requests.length >= 6, `requests recorded: ${requests.length}`);
  const responsesOf = (id: string) => entries.filter((e) => e.type === 'response' && e.data?.requestId === id);
  for (const request of requests) {
    const what = `${request.action?.verb} ${request.data?.target}`;
    assert.deepEqual(request.identity?.groups, ['ci'], what);
    assert.equal(request.identity?.via, 'builtin', what);
    assert.equal(request.connection, 'sandbox', what);
    assert.equal(request.action?.protocol, 'kubernetes', what);
    assert.equal(typeof request.action?.verb, 'string', what);
    assert.equal(request.decision?.effect, 'allow', what);
    assert.equal(request.data?.outcome, 'forwarded', what);
    const responses = responsesOf(request.id);
    assert.equal(responses.length, 1, `${what}: one response entry`);
    const [response] = responses as [LedgerEntry];
    assert.equal(typeof response.data?.status, 'number', what);
    assert.equal(response.sessionId, request.sessionId, what);
    assert.ok(response.seq > request.seq, `${what}: the response follows its request`);
  }

  const watchRequest = requests.find((e) => e.action?.verb === 'watch' && e.action.resource === 'configmaps');
  assert.ok(watchRequest, 'the watch is recorded');
  const parts = entries.filter((e) => e.type === 'stream' && e.data?.requestId === watchRequest.id);
  assert.deepEqual(parts.map((p) => p.data?.part), parts.map((_, i) => i + 1), 'stream parts are numbered in order');
  assert.ok(parts.some((p) => p.response?.inline?.includes('"name":"recorded-event"')), 'the event is a stream entry');
  const [closing] = responsesOf(watchRequest.id);
  assert.equal(closing?.data?.streamed, true);
  assert.equal(closing?.data?.parts, parts.length);
  assert.ok(parts.every((p) => p.seq > watchRequest.seq && p.seq < closing!.seq), 'stream entries sit between the request and its response');

  // Sessions follow the token: A's requests (kubectl runs and the watch) share one, B has another.
  const jti = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
  const sessionsOf = (token: string) => new Set(requests.filter((e) => e.identity?.tokenId === jti(token)).map((e) => e.sessionId));
  const [sessionA, sessionB] = [sessionsOf(tokenA), sessionsOf(tokenB)];
  assert.equal(sessionA.size, 1, 'one session for token A');
  assert.equal(sessionB.size, 1, 'one session for token B');
  assert.notDeepEqual([...sessionA], [...sessionB]);
  assert.match([...sessionA][0] ?? '', /^ses_[0-9a-f]{24}$/);
  assert.equal(requests.filter((e) => e.identity?.tokenId === jti(tokenA)).length + requests.filter((e) => e.identity?.tokenId === jti(tokenB)).length, requests.length);
  assert.ok(sessionA.has(watchRequest.sessionId), 'the watch belongs to session A');

  const text = JSON.stringify(entries);
  for (const token of [tokenA, tokenB]) assert.ok(!text.includes(token.split('.')[2]!), 'no token signature in the ledger');

  await h.runtime.ledger.checkpoint();
  const report = await h.verify();
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  const [chain] = report.chains;
  assert.equal(chain?.entries, entries.length);
  assert.ok((chain?.validCheckpoints ?? 0) >= 1, 'the checkpoint verifies');
});
