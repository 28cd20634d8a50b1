/**
 * `airlock kubeconfig` and `airlock token exec` from code: the written file, what real kubectl
 * makes of it, and — with a node:https listener standing in for airlock's Kubernetes
 * endpoint, serving the quick-start certificate — kubectl running the exec plugin and
 * sending the minted token, which then verifies with the built-in issuer.
 *
 * The plugin is started here from this tree's own token.ts (see sourcePlugin), so it needs no
 * build; the end-to-end test (test/e2e/cli/kubeconfig.test.ts) runs it through bin/airlock.js.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { resolveConfig, type AirlockConfig } from '../config/index.js';
import { isAirlockError } from '../errors.js';
import { createAuthenticator, openBuiltinIssuer } from '../identity/index.js';
import { ensureQuickstartTls } from '../server/tls-certificates.js';
import { pluginConfigArgs, writeAgentKubeconfig, type AgentKubeconfigRequest, type PluginCommand } from './kubeconfig.js';
import { execCredential, mintBuiltinToken } from './token.js';

let dir: string;
let config: AirlockConfig;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-kubeconfig-cli-'));
  config = resolveConfig({ flags: { data: join(dir, 'data'), listen: '127.0.0.1:18443', admin: '127.0.0.1:18444' }, env: {}, cwd: dir });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function request(overrides: Partial<AgentKubeconfigRequest> = {}): AgentKubeconfigRequest {
  return {
    connection: 'sandbox',
    subject: 'agent:deploy-bot',
    groups: ['ci', 'deployers'],
    ttl: '15m',
    out: join(dir, 'agent.kubeconfig'),
    configArgs: ['--data', config.data, '--admin', '127.0.0.1:18444'],
    ...overrides,
  };
}

interface ExecUser {
  exec: { apiVersion: string; command: string; args: string[]; interactiveMode: string; provideClusterInfo: boolean; env?: unknown };
}
interface Kubeconfig {
  clusters: Array<{ name: string; cluster: { server: string; 'certificate-authority-data'?: string } }>;
  users: Array<{ name: string; user: ExecUser }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
  'current-context': string;
}

/** kubectlDir is where the real kubectl lives; the versioned clients sit beside it. */
function kubectlDir(): string | undefined {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (d && existsSync(join(d, 'kubectl'))) return dirname(realpathSync(join(d, 'kubectl')));
  }
  return undefined;
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * sourcePlugin starts `airlock token exec` from this very tree: the TypeScript sources under
 * tsx (no build needed), or the compiled token.js when this test runs from dist/.
 */
function sourcePlugin(): PluginCommand {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = join(dir, 'airlock-from-source.mjs');
  writeFileSync(entry, [
    `const { Command } = await import(${JSON.stringify(import.meta.resolve('commander'))});`,
    `const { registerToken } = await import(${JSON.stringify(new URL(fromSource ? './token.ts' : './token.js', import.meta.url).href)});`,
    "const program = new Command('airlock');",
    'registerToken(program);',
    'await program.parseAsync(process.argv);',
  ].join('\n'));
  return { command: process.execPath, args: [...(fromSource ? ['--import', import.meta.resolve('tsx')] : []), entry] };
}

describe('writeAgentKubeconfig', () => {
  it('writes a 0600 kubeconfig: airlock endpoint, quick-start CA, exec plugin, and no token', async () => {
    const written = await writeAgentKubeconfig(config, request(), { command: '/usr/bin/node', args: ['/opt/airlock/bin/airlock.js'] });
    assert.equal(statSync(written.file).mode & 0o777, 0o600);
    const text = readFileSync(written.file, 'utf8');
    const kc = parse(text) as Kubeconfig;
    assert.equal(written.server, 'https://127.0.0.1:18443/k8s/sandbox');
    assert.equal(kc['current-context'], 'airlock-sandbox');
    assert.equal(kc.clusters[0]?.cluster.server, 'https://127.0.0.1:18443/k8s/sandbox');
    const ca = readFileSync(join(config.data, 'tls', 'ca.crt'), 'utf8');
    assert.equal(Buffer.from(kc.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), ca, 'the quick-start CA exists before the first start');
    assert.deepEqual(kc.users[0]?.user.exec, {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: '/usr/bin/node',
      args: ['/opt/airlock/bin/airlock.js', 'token', 'exec', '--data', config.data, '--admin', '127.0.0.1:18444', '--subject', 'agent:deploy-bot', '--group', 'ci', '--group', 'deployers', '--ttl', '15m'],
      interactiveMode: 'Never',
      provideClusterInfo: false,
    });
    assert.ok(!/eyJ|token:/.test(text), 'no token, and no token field, in the file');
  });

  it('the connection `airlock start --kubeconfig`/`--upstream` creates from its flags is known without those flags', async () => {
    // The banner of a one-line start prints `airlock kubeconfig --connection default` without the upstream flags.
    const written = await writeAgentKubeconfig(config, request({ connection: 'default' }));
    assert.equal(written.server, 'https://127.0.0.1:18443/k8s/default');
  });

  it('the default plugin command is this node and the absolute bin/airlock.js', async () => {
    const written = await writeAgentKubeconfig(config, request());
    const exec = (parse(readFileSync(written.file, 'utf8')) as Kubeconfig).users[0]?.user.exec;
    assert.equal(exec?.command, process.execPath);
    assert.match(exec?.args[0] ?? '', /\/bin\/airlock\.js$/);
    assert.ok(existsSync(exec?.args[0] ?? ''));
  });

  it('--server replaces the listener address, and airlock.tls.ca replaces the quick-start CA', async () => {
    writeFileSync(join(dir, 'own-ca.crt'), '-----BEGIN CERTIFICATE-----\nown\n-----END CERTIFICATE-----\n');
    writeFileSync(join(dir, 'airlock.yaml'), `data: ${join(dir, 'data')}\ntls: { cert: server.crt, key: server.key, ca: own-ca.crt }\n`);
    const own = resolveConfig({ configFile: join(dir, 'airlock.yaml'), env: {}, cwd: dir });
    const written = await writeAgentKubeconfig(own, request({ server: 'https://airlock.example.com:443/' }));
    const kc = parse(readFileSync(written.file, 'utf8')) as Kubeconfig;
    assert.equal(kc.clusters[0]?.cluster.server, 'https://airlock.example.com/k8s/sandbox');
    assert.match(Buffer.from(kc.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), /\nown\n/);
    writeFileSync(join(dir, 'airlock.yaml'), `data: ${join(dir, 'data')}\ntls: { cert: server.crt, key: server.key }\n`);
    const publicCert = resolveConfig({ configFile: join(dir, 'airlock.yaml'), env: {}, cwd: dir });
    const again = parse(readFileSync((await writeAgentKubeconfig(publicCert, request({ server: 'https://airlock.example.com' }))).file, 'utf8')) as Kubeconfig;
    assert.equal(again.clusters[0]?.cluster['certificate-authority-data'], undefined, 'a publicly trusted certificate needs no CA data');
  });

  const refused: Array<{ name: string; config?: () => AirlockConfig; request: Partial<AgentKubeconfigRequest>; message: RegExp }> = [
    {
      name: 'an unknown connection is refused, listing the known ones and the sandbox',
      config: () => resolveConfig({ flags: { data: join(dir, 'data'), upstream: 'https://10.0.0.1:6443', upstreamTokenFile: join(dir, 'tok') }, env: {}, cwd: dir }),
      request: { connection: 'prod' },
      message: /connection "prod" is not configured; known connections: default, sandbox/,
    },
    { name: 'a subject the issuer would refuse is refused before writing', request: { subject: 'agent with spaces' }, message: /subject must be/ },
    { name: 'a ttl over the issuer maximum is refused before writing', request: { ttl: '48h' }, message: /longer than the maximum/ },
    { name: 'a --server with a path is refused', request: { server: 'https://airlock.example.com/k8s' }, message: /without a path/ },
    { name: 'a plain http --server is refused', request: { server: 'http://airlock.example.com' }, message: /https:\/\// },
    { name: 'an --out file in a missing directory is refused in plain words', request: { out: join('/nonexistent-dir', 'agent.kubeconfig') }, message: /cannot write .*\(ENOENT\); check that its directory exists/ },
    {
      name: 'a listener on port 0 needs --server',
      config: () => resolveConfig({ flags: { data: join(dir, 'data'), listen: '127.0.0.1:0' }, env: {}, cwd: dir }),
      request: {},
      message: /no fixed address.*--server/,
    },
  ];
  for (const row of refused) {
    it(row.name, async () => {
      const out = join(dir, 'refused.kubeconfig');
      await assert.rejects(writeAgentKubeconfig(row.config?.() ?? config, request({ out, ...row.request })), (err: unknown) => {
        assert.ok(isAirlockError(err, 'AIRLOCK_INPUT_INVALID'), String(err));
        assert.match(err.message, row.message);
        return true;
      });
      assert.ok(!existsSync(out), 'nothing is written');
    });
  }
});

describe('pluginConfigArgs', () => {
  const rows: Array<{ name: string; options: Record<string, string>; expected: (c: AirlockConfig) => string[] }> = [
    { name: 'without a file: the data dir', options: {}, expected: (c) => ['--data', c.data] },
    { name: 'with a file: the file, absolute', options: { config: 'airlock.yaml' }, expected: () => ['--config', join(process.cwd(), 'airlock.yaml')] },
    { name: 'with a file and --data: both', options: { config: '/etc/airlock.yaml', data: 'd' }, expected: (c) => ['--config', '/etc/airlock.yaml', '--data', c.data] },
    { name: '--admin is repeated: the issuer URL derives from it', options: { admin: '127.0.0.1:9000' }, expected: (c) => ['--data', c.data, '--admin', '127.0.0.1:9000'] },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const saved = process.env.AIRLOCK_CONFIG;
      delete process.env.AIRLOCK_CONFIG;
      try {
        assert.deepEqual(pluginConfigArgs(row.options, config), row.expected(config));
      } finally {
        if (saved !== undefined) process.env.AIRLOCK_CONFIG = saved;
      }
    });
  }
});

describe('token exec', () => {
  it('prints an ExecCredential whose expiry is the token exp, in RFC 3339 whole seconds', async () => {
    const minted = await mintBuiltinToken(config, { subject: 'agent:deploy-bot', groups: ['ci'], ttl: '10m' });
    const credential = execCredential(minted);
    assert.equal(credential.apiVersion, 'client.authentication.k8s.io/v1');
    assert.equal(credential.kind, 'ExecCredential');
    assert.equal(credential.status.token, minted.token);
    assert.match(credential.status.expirationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(Date.parse(credential.status.expirationTimestamp) / 1000, minted.expiresAt);
  });
});

describe('with real kubectl', () => {
  const kdir = kubectlDir();
  const skip = kdir ? false : 'kubectl is not installed';

  it('kubectl config view accepts the file and keeps the exec plugin as written', { skip }, async () => {
    const written = await writeAgentKubeconfig(config, request(), { command: '/usr/bin/true', args: [] });
    const home = mkdtempSync(join(dir, 'home-'));
    const res = await run(join(kdir!, 'kubectl'), ['config', 'view', '--kubeconfig', written.file, '--raw', '-o', 'json'], { PATH: process.env.PATH, HOME: home });
    assert.equal(res.code, 0, res.stderr);
    const viewed = JSON.parse(res.stdout) as Kubeconfig;
    assert.equal(viewed.clusters[0]?.cluster.server, 'https://127.0.0.1:18443/k8s/sandbox');
    assert.equal(viewed.users[0]?.user.exec.interactiveMode, 'Never');
    assert.deepEqual(viewed.users[0]?.user.exec.args.slice(0, 2), ['token', 'exec']);
  });

  const pinned = kdir && existsSync(join(kdir, 'kubectl.1.33')) ? join(kdir, 'kubectl.1.33') : undefined;
  it('kubectl runs the plugin, trusts the quick-start CA and sends a token the built-in issuer verifies', { skip: pinned ? false : 'kubectl.1.33 is not installed' }, async () => {
    const tls = await ensureQuickstartTls(config.data, ['127.0.0.1', 'localhost']);
    const seen: Array<{ path: string; authorization: string | undefined }> = [];
    const server = https.createServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, (req, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ major: '1', minor: '33', gitVersion: 'v1.33.0', platform: 'linux/amd64' }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as AddressInfo).port;
      const written = await writeAgentKubeconfig(config, request({ server: `https://127.0.0.1:${port}` }), sourcePlugin());
      const home = mkdtempSync(join(dir, 'home-'));
      const res = await run(pinned!, ['version', '-o', 'json', '--kubeconfig', written.file], { PATH: process.env.PATH, HOME: home });
      assert.equal(res.code, 0, res.stderr);
      assert.equal((JSON.parse(res.stdout) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion, 'v1.33.0');
      const call = seen.find((s) => s.path.split('?')[0] === '/k8s/sandbox/version');
      assert.ok(call, `kubectl called the connection's /version (saw ${seen.map((s) => s.path).join(', ')})`);
      const token = /^Bearer (.+)$/.exec(call.authorization ?? '')?.[1];
      assert.ok(token, 'kubectl sent the token the plugin minted');
      const builtin = await openBuiltinIssuer({ dataDir: config.data, issuer: config.admin.url, audience: config.identity.builtin.audience });
      const identity = await createAuthenticator({ issuers: [], builtin }).authenticate(token);
      assert.equal(identity.subject, 'agent:deploy-bot');
      assert.deepEqual(identity.groups, ['ci', 'deployers']);
      assert.equal(identity.kind, 'agent');
      assert.ok(!readFileSync(written.file, 'utf8').includes(token), 'the token never lands in the kubeconfig');
    } finally {
      server.close();
    }
  });
});
