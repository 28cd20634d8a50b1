/**
 * Exec credential plugins, run for real: a small executable plugin (a Node.js script named by a
 * kubeconfig, as `aws eks get-token` would be) prints what the test put in its answer file and
 * notes every run. Through openUpstream the token reaches the fake API server; the clock is
 * injected, so renewals are driven by moving it, never by sleeping.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { request } from 'undici';
import { kubernetesConnectionSchema } from '../../../config/kubernetes-schema.js';
import { isAirlockError } from '../../../errors.js';
import { startFakeApiServer, type FakeApiServer } from '../../../../test/fixtures/fake-apiserver/index.js';
import { writeExecKubeconfig } from '../../../../test/support/exec-kubeconfig.js';
import { execRetryMs, lastLine, parseCredential, refreshTime } from './exec-plugin.js';
import { openUpstream, sendRenewing, upstreamPath, type OpenUpstreamOptions, type Upstream } from './upstream.js';

const V1 = 'client.authentication.k8s.io/v1';
const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

/** The plugin: notes its run (args, env, KUBERNETES_EXEC_INFO), then answers as the file `answer` says. */
const PLUGIN = [
  "const { appendFileSync, readFileSync } = require('node:fs');",
  "const { join } = require('node:path');",
  "appendFileSync(join(__dirname, 'runs.jsonl'), JSON.stringify({ args: process.argv.slice(2), profile: process.env.PLUGIN_PROFILE, info: JSON.parse(process.env.KUBERNETES_EXEC_INFO) }) + '\\n');",
  "const answer = readFileSync(join(__dirname, 'answer'), 'utf8');",
  "if (answer.startsWith('exit:')) { process.stderr.write(answer.slice(5)); process.exit(3); }",
  "if (answer === 'hang') setInterval(() => {}, 1000);",
  'else process.stdout.write(answer);',
];

let fake: FakeApiServer;
let dir: string;
let cases = 0;
before(async () => {
  fake = await startFakeApiServer();
  dir = mkdtempSync(join(tmpdir(), 'airlock-exec-plugin-'));
});
after(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A case's own folder: the plugin, its answer, its runs, and a kubeconfig naming it. */
function pluginCase(exec: Record<string, unknown> = {}) {
  const home = mkdtempSync(join(dir, `case-${++cases}-`));
  const kubeconfig = writeExecKubeconfig(home, { server: fake.url, caCert: fake.caCert ?? '', script: PLUGIN, exec, names: { cluster: 'fake', user: 'cloud', context: 'fake' } }, 'kubeconfig');
  const runs = () => (existsSync(join(home, 'runs.jsonl')) ? readFileSync(join(home, 'runs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) : []);
  return {
    answer: (text: string) => writeFileSync(join(home, 'answer'), text),
    credential: (token: string, expirationTimestamp?: string) =>
      writeFileSync(join(home, 'answer'), JSON.stringify({ apiVersion: V1, kind: 'ExecCredential', status: { token, ...(expirationTimestamp && { expirationTimestamp }) } })),
    runs,
    connection: () => kubernetesConnectionSchema.parse({ name: 'cloud', type: 'kubernetes', upstream: { kubeconfig } }),
  };
}

/** A logger whose lines the test reads. */
function capturedLogger() {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  return { logger, text: () => lines.join('') };
}

async function status(upstream: Upstream): Promise<number> {
  const authorization = upstream.authorization();
  const res = await request(new URL(upstreamPath(upstream, '/api/v1/namespaces'), upstream.baseUrl), {
    dispatcher: upstream.dispatcher,
    headers: { accept: 'application/json', ...(authorization && { authorization }) },
  });
  await res.body.dump();
  return res.statusCode;
}

async function withUpstream(c: ReturnType<typeof pluginCase>, opts: OpenUpstreamOptions, fn: (u: Upstream) => Promise<void>): Promise<void> {
  const upstream = await openUpstream(c.connection(), opts);
  try {
    await fn(upstream);
  } finally {
    await upstream.close();
  }
}

describe('a kubeconfig whose user is an exec plugin', () => {
  it("runs the plugin as client-go does and sends the token it printed; the cluster accepts airlock's requests", async () => {
    const c = pluginCase({ args: ['token', '--cluster', 'fake'], env: [{ name: 'PLUGIN_PROFILE', value: 'ops' }], provideClusterInfo: true });
    c.credential(fake.token, new Date(Date.now() + 3600_000).toISOString());
    fake.clearReceived();
    await withUpstream(c, {}, async (upstream) => {
      assert.equal(await status(upstream), 200);
      const seen = await fake.waitForRequest((r) => r.path === '/api/v1/namespaces');
      assert.equal(seen.authorization?.isAdminToken, true);
      assert.match(upstream.describe(), /bearer token from exec plugin .*plugin\.cjs/);
      assert.ok(!upstream.describe().includes(fake.token), 'describe never shows the token');
    });
    const [run] = c.runs();
    assert.deepEqual(run?.args, ['token', '--cluster', 'fake']);
    assert.equal(run?.profile, 'ops');
    assert.deepEqual(run?.info, {
      apiVersion: V1,
      kind: 'ExecCredential',
      spec: { interactive: false, cluster: { server: fake.url, 'certificate-authority-data': Buffer.from(fake.caCert ?? '').toString('base64') } },
    });
  });

  it('renews the token a fifth of its lifetime before it expires, keeping the old one until the new one is there', async () => {
    const c = pluginCase();
    c.credential('an-old-token-the-cluster-no-longer-accepts', at(10));
    let now = T0;
    await withUpstream(c, { now: () => now }, async (upstream) => {
      assert.equal(await status(upstream), 401);
      c.credential(fake.token, at(70));
      now = T0 + 7 * 60_000 + 59_000; // 10 min lifetime: renewed from minute 8
      assert.equal(await status(upstream), 401);
      assert.equal(c.runs().length, 1, 'not renewed before minute 8');
      now = T0 + 8 * 60_000;
      assert.match(upstream.authorization() ?? '', /an-old-token/, 'the request that starts the renewal still carries the old token');
      await settledOf(upstream);
      assert.equal(c.runs().length, 2);
      assert.equal(await status(upstream), 200);
    });
  });

  it('keeps a token without expiry until the cluster refuses it, then renews it at once (refusals run the plugin at most every 10 s)', async () => {
    const c = pluginCase();
    c.credential('a-token-the-cluster-refuses');
    let now = T0;
    await withUpstream(c, { now: () => now }, async (upstream) => {
      assert.equal(await status(upstream), 401);
      c.credential(fake.token);
      assert.equal(await upstream.renew(), true, 'a new token: the refused request may be sent again');
      assert.equal(c.runs().length, 2);
      assert.equal(await status(upstream), 200);
      c.credential('refused-again');
      now += execRetryMs - 1;
      assert.equal(await upstream.renew(), false, 'not again within 10 s of the last renewal');
      assert.equal(c.runs().length, 2);
      now += 1;
      assert.equal(await upstream.renew(), true);
      assert.equal(c.runs().length, 3);
    });
  });

  it('sendRenewing sends a request refused for the exec token once more with the renewed one; a static token gets its 401 back', async () => {
    const c = pluginCase();
    c.credential('a-token-the-cluster-refuses');
    const get = (upstream: Upstream) => () =>
      request(new URL(upstreamPath(upstream, '/api/v1/namespaces'), upstream.baseUrl), { dispatcher: upstream.dispatcher, headers: { authorization: upstream.authorization() ?? '' } });
    await withUpstream(c, {}, async (upstream) => {
      c.credential(fake.token);
      const res = await sendRenewing(upstream, get(upstream));
      await res.body.dump();
      assert.equal(res.statusCode, 200);
      assert.equal(c.runs().length, 2);
    });
    const fixed = await openUpstream(kubernetesConnectionSchema.parse({ name: 'fixed', type: 'kubernetes', upstream: { url: fake.url, insecure: true, token: 'a-static-token-the-cluster-refuses' } }));
    try {
      const res = await sendRenewing(fixed, get(fixed));
      await res.body.dump();
      assert.equal(res.statusCode, 401);
    } finally {
      await fixed.close();
    }
  });

  it('a plugin that gives the same token again is no reason to send the request again', async () => {
    const c = pluginCase();
    c.credential('the-same-token');
    await withUpstream(c, {}, async (upstream) => {
      assert.equal(await upstream.renew(), false);
      assert.equal(c.runs().length, 2);
    });
  });

  it('a failed renewal keeps the last token, says why in the log without any token, and is retried 10 s later', async () => {
    const c = pluginCase();
    c.credential(fake.token, at(10));
    let now = T0;
    const log = capturedLogger();
    const renewals: boolean[] = [];
    await withUpstream(c, { now: () => now, logger: log.logger, onCredentialRenewal: (ok) => renewals.push(ok) }, async (upstream) => {
      c.answer('exit:error: the SSO session has expired; run `aws sso login`\n');
      now = T0 + 8 * 60_000;
      upstream.authorization();
      await settledOf(upstream);
      assert.equal(await status(upstream), 200, 'the old token is still valid and still sent');
      assert.match(log.text(), /could not renew the upstream token \(it expires soon\): it exited with code 3: error: the SSO session has expired; run `aws sso login`/);
      now += execRetryMs - 1;
      upstream.authorization();
      await settledOf(upstream);
      assert.equal(c.runs().length, 2, 'no new run within 10 s');
      now = T0 + 10 * 60_000;
      upstream.authorization();
      await settledOf(upstream);
      assert.equal(c.runs().length, 3);
      assert.match(log.text(), /has expired and the plugin has not given a new one/);
      assert.ok(!log.text().includes(fake.token), 'no token in the log');
      c.credential(fake.token, at(70));
      now += execRetryMs;
      upstream.authorization();
      await settledOf(upstream);
      assert.deepEqual(renewals, [false, false, true], 'each renewal is counted with its result (the first run is not a renewal)');
    });
  });

  const refused: Array<{ name: string; answer: string; exec?: Record<string, unknown>; timeoutMs?: number; message: RegExp }> = [
    { name: 'a plugin that fails says so, with its last line of stderr', answer: 'exit:starting\nerror: no credentials for profile "ops"\n', message: /exited with code 3: error: no credentials for profile "ops"$/ },
    { name: 'a plugin that is not there says how to install it', answer: '', exec: { command: './missing-plugin', installHint: 'Install it with: brew install cloud-auth' }, message: /was not found; Install it with: brew install cloud-auth/ },
    { name: 'output that is not JSON is refused', answer: 'hello', message: /did not print an ExecCredential \(the output is not JSON\)/ },
    { name: 'another kind is refused', answer: JSON.stringify({ apiVersion: V1, kind: 'Config' }), message: /kind is not ExecCredential/ },
    { name: 'another apiVersion than the kubeconfig asks for is refused', answer: JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', status: { token: 'x' } }), message: /answered with apiVersion "client\.authentication\.k8s\.io\/v1beta1" where the kubeconfig asks for client\.authentication\.k8s\.io\/v1/ },
    { name: 'a client certificate is refused, saying what to do instead', answer: JSON.stringify({ apiVersion: V1, kind: 'ExecCredential', status: { clientCertificateData: 'pem', clientKeyData: 'pem' } }), message: /client certificate; airlock takes only tokens from exec plugins/ },
    { name: 'a token that cannot go into a header is refused without quoting it', answer: JSON.stringify({ apiVersion: V1, kind: 'ExecCredential', status: { token: 'secret with spaces' } }), message: /the token it gave contains characters a bearer token cannot have/ },
    { name: 'a plugin that waits for a login is given up on', answer: 'hang', timeoutMs: 300, message: /did not finish within 0\.3 s/ },
  ];
  for (const row of refused) {
    it(`at start, ${row.name} (AIRLOCK_UPSTREAM_CONFIG)`, async () => {
      const c = pluginCase(row.exec);
      c.answer(row.answer);
      await assert.rejects(openUpstream(c.connection(), row.timeoutMs ? { execTimeoutMs: row.timeoutMs } : {}), (err: unknown) => {
        assert.ok(isAirlockError(err, 'AIRLOCK_UPSTREAM_CONFIG'), String(err));
        assert.match(err.message, /connection "cloud": the exec plugin .* \(kubeconfig .*, context "fake", user "cloud"\) gave no token: /);
        assert.match(err.message, row.message);
        assert.ok(!err.message.includes('secret with spaces'));
        return true;
      });
    });
  }
});

describe('exec plugin helpers', () => {
  it('refreshTime: a fifth of the lifetime before expiry, between 10 s and 5 minutes; half of a very short one; none without expiry', () => {
    assert.equal(refreshTime({ token: 't', expiresAt: 15 * 60_000 }, 0), 12 * 60_000);
    assert.equal(refreshTime({ token: 't', expiresAt: 3600_000 }, 0), 55 * 60_000);
    assert.equal(refreshTime({ token: 't', expiresAt: 30_000 }, 0), 20_000);
    assert.equal(refreshTime({ token: 't', expiresAt: 10_000 }, 0), 5_000);
    assert.equal(refreshTime({ token: 't' }, 0), undefined);
  });

  it('lastLine keeps what a plugin says and hides what looks like a credential', () => {
    assert.equal(lastLine('warning: x\n  error: token expired  \n\n'), 'error: token expired');
    assert.equal(lastLine('bad refresh token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'), 'bad refresh token […]');
    assert.equal(lastLine(''), '');
  });

  it('parseCredential reads the expiry, and refuses one that is not a time', () => {
    assert.deepEqual(parseCredential(JSON.stringify({ apiVersion: V1, kind: 'ExecCredential', status: { token: ' t0k ', expirationTimestamp: '2026-01-01T00:10:00Z' } }), V1), { token: 't0k', expiresAt: T0 + 600_000 });
    assert.throws(() => parseCredential(JSON.stringify({ apiVersion: V1, kind: 'ExecCredential', status: { token: 't', expirationTimestamp: 'soon' } }), V1), /not an RFC 3339 time/);
    assert.throws(() => parseCredential(JSON.stringify({ apiVersion: V1, kind: 'ExecCredential', status: {} }), V1), /has no status\.token/);
  });
});

/** settledOf waits for the plugin run the upstream's token source has in progress, if any. */
function settledOf(upstream: Upstream): Promise<void> {
  return upstream.settled();
}
