/**
 * The benchmark's upstream must answer like an API server would, or the benchmark measures
 * errors: these tests pin what it serves, whom it refuses, and that the large list is a valid
 * SecretList of the asked size with clear values a leak check can find.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { CLEAR_NEEDLE, paths } from './objects.js';
import { bigListPath, startBenchUpstream, type BenchUpstream } from './upstream.js';

const LARGE_BYTES = 2 * 1024 * 1024;
let upstream: BenchUpstream;
let agent: Agent;

before(async () => {
  upstream = await startBenchUpstream({ listItems: 25, bigBytes: LARGE_BYTES });
  agent = new Agent({ connect: { ca: upstream.caCert } });
});
after(async () => {
  await agent.close();
  await upstream.close();
});

async function get(path: string, token: string | null = upstream.token): Promise<{ status: number; body: Buffer; contentType: unknown }> {
  const res = await request(upstream.url + path, { dispatcher: agent, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) chunks.push(chunk as Buffer);
  return { status: res.statusCode, body: Buffer.concat(chunks), contentType: res.headers['content-type'] };
}

test('each workload path answers its object as JSON, with the kind an API server would send', async () => {
  const cases = [
    { path: '/version', kind: undefined },
    { path: paths.configMap, kind: 'ConfigMap' },
    { path: paths.secretList, kind: 'SecretList' },
    { path: bigListPath('cluster'), kind: 'SecretList' },
    { path: bigListPath('credentials'), kind: 'SecretList' },
  ];
  for (const c of cases) {
    const res = await get(c.path);
    assert.equal(res.status, 200, c.path);
    assert.equal(res.contentType, 'application/json', c.path);
    const parsed = JSON.parse(res.body.toString()) as { kind?: string };
    assert.equal(parsed.kind, c.kind, c.path);
  }
});

test('the SecretList holds the configured number of Secrets, every one with clear values to mask', async () => {
  const res = await get(paths.secretList);
  const list = JSON.parse(res.body.toString()) as { items: { data: Record<string, string> }[] };
  assert.equal(list.items.length, 25);
  assert.equal(res.body.length, upstream.listBytes);
  for (const item of list.items) {
    for (const value of Object.values(item.data)) assert.ok(value.startsWith(CLEAR_NEEDLE), 'a clear value starts with the needle the leak check looks for');
  }
});

test('the large list is generated to about the asked size and is one valid SecretList', async () => {
  for (const mix of ['cluster', 'credentials'] as const) {
    const res = await get(bigListPath(mix));
    assert.ok(res.body.length >= LARGE_BYTES && res.body.length < LARGE_BYTES + 128 * 1024, `${mix}: ${res.body.length} bytes`);
    const list = JSON.parse(res.body.toString()) as { items: unknown[] };
    assert.ok(list.items.length > 100, mix);
    assert.ok(res.body.includes(CLEAR_NEEDLE), mix);
  }
});

test('requests without the upstream token are refused with a Status, and unknown paths are 404 Statuses', async () => {
  const cases = [
    { title: 'no token', path: paths.configMap, token: null, status: 401, reason: 'Unauthorized' },
    { title: 'another token', path: paths.configMap, token: 'not-the-token', status: 401, reason: 'Unauthorized' },
    { title: 'an unknown path', path: '/api/v1/namespaces/bench/pods', token: upstream.token, status: 404, reason: 'NotFound' },
  ];
  for (const c of cases) {
    const res = await get(c.path, c.token);
    assert.equal(res.status, c.status, c.title);
    const status = JSON.parse(res.body.toString()) as { kind: string; reason: string };
    assert.equal(status.kind, 'Status', c.title);
    assert.equal(status.reason, c.reason, c.title);
  }
  assert.equal(upstream.stats().unauthorized, 2);
});
