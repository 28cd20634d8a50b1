/**
 * Bringing up the routes of the streams benchmark, each server in its own process: the fake
 * API server (fake-upstream-process.ts, forked); `kubectl proxy` in front of it (the Go peer,
 * with exec allowed: by default it refuses exec and attach paths); the node floor
 * (ws-relay-process.ts, forked); and `airlock start` (started as bench/kubernetes does, with
 * airlock's defaults: SQLite ledger, embedded policy, masking, the built-in issuer). The
 * agent's token for airlock is minted by that issuer, as `airlock token mint` prints it;
 * airlock, kubectl proxy and the floor reach the fake with the fake's admin token, and airlock
 * impersonates the agent.
 */
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintBuiltinToken } from '../../src/cli/token.js';
import { resolveConfig } from '../../src/config/index.js';
import { findKubectl, startAirlock, startKubectlProxy, type AirlockProcess, type Running } from '../kubernetes/processes.js';
import type { ExecTarget } from './channel-client.js';
import type { FakeReady } from './fake-upstream-process.js';
import type { WsRelayReady } from './ws-relay-process.js';

const CONNECTION = 'bench';
const compiled = import.meta.url.endsWith('.js');

/** forkHelper forks a helper of this folder with the same loader as this process (tsx or none). */
async function forkHelper<T>(name: string, what: string, args: string[]): Promise<Running & { ready: T }> {
  const entry = fileURLToPath(new URL(`./${name}.${compiled ? 'js' : 'ts'}`, import.meta.url));
  const child = fork(entry, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<T>((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready`)));
  });
  return {
    pid: child.pid ?? -1,
    ready,
    output: () => '',
    async stop() {
      if (child.connected) child.disconnect();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function writeKubeconfig(dir: string, fake: FakeReady): string {
  const file = join(dir, 'upstream.kubeconfig');
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake', cluster: { server: fake.url, 'certificate-authority-data': Buffer.from(fake.caCert).toString('base64') } }],
    users: [{ name: 'bench', user: { token: fake.token } }],
    contexts: [{ name: 'bench', context: { cluster: 'fake', user: 'bench' } }],
    'current-context': 'bench',
  };
  writeFileSync(file, JSON.stringify(kubeconfig, null, 2), { mode: 0o600 });
  return file;
}

function writeAirlockConfig(dir: string, kubeconfig: string): string {
  const file = join(dir, 'airlock.yaml');
  const config = {
    data: join(dir, 'airlock'),
    listen: '127.0.0.1:0',
    admin: { listen: '127.0.0.1:0' },
    log: { level: 'warn' },
    connections: [{ name: CONNECTION, type: 'kubernetes', upstream: { kubeconfig } }],
  };
  writeFileSync(file, `# Written by bench/streams for one run.\n${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return file;
}

export interface Setup {
  fake: FakeReady;
  fakePid: number;
  airlock: AirlockProcess;
  /** the kubectl proxy binary, when one was found */
  kubectl?: string;
  /** every route, in the order they are measured: direct, kubectl proxy, node floor, airlock */
  targets: ExecTarget[];
  direct: ExecTarget;
  through: ExecTarget;
}

/** Which optional routes to leave out (`--skip kubectl-proxy,node-floor`). */
export interface SetupOptions {
  skip: Set<string>;
  kubectl?: string;
  airlockNodeArgs: string[];
}

/** setUp starts every process; each is pushed onto `children` at once, for the caller to stop. */
export async function setUp(dir: string, fileBytes: number, children: Running[], options: SetupOptions): Promise<Setup> {
  const fake = await forkHelper<FakeReady>('fake-upstream-process', 'the fake API server', ['--file-bytes', String(fileBytes)]);
  children.push(fake);
  const { namespace, pod } = fake.ready;
  const kubeconfig = writeKubeconfig(dir, fake.ready);
  const direct: ExecTarget = { name: 'direct', base: fake.ready.url, token: fake.ready.token, ca: fake.ready.caCert, namespace, pod };
  const targets = [direct];
  const kubectl = options.skip.has('kubectl-proxy') ? undefined : findKubectl(options.kubectl);
  if (kubectl) {
    // kubectl proxy refuses exec and attach unless told otherwise; `^$` rejects nothing.
    const proxy = await startKubectlProxy(kubectl, kubeconfig, ['--reject-paths=^$']);
    children.push(proxy);
    targets.push({ name: 'kubectl proxy', base: proxy.url, namespace, pod, pid: proxy.pid });
  }
  if (!options.skip.has('node-floor')) {
    const caFile = join(dir, 'upstream-ca.pem');
    const tokenFile = join(dir, 'upstream-token');
    writeFileSync(caFile, fake.ready.caCert);
    writeFileSync(tokenFile, fake.ready.token, { mode: 0o600 });
    const floor = await forkHelper<WsRelayReady>('ws-relay-process', 'the node floor relay', ['--upstream', fake.ready.url, '--upstream-ca-file', caFile, '--token-file', tokenFile]);
    children.push(floor);
    targets.push({ name: 'node floor', base: floor.ready.url, ca: floor.ready.caCert, namespace, pod, pid: floor.pid });
  }
  const configFile = writeAirlockConfig(dir, kubeconfig);
  const airlock = await startAirlock(configFile, CONNECTION, options.airlockNodeArgs);
  children.push(airlock);
  const minted = await mintBuiltinToken(resolveConfig({ configFile, env: process.env, cwd: dir }), { subject: 'agent:bench', groups: ['bench'], ttl: '1h' });
  const through: ExecTarget = { name: 'airlock', base: airlock.url, token: minted.token, ca: readFileSync(airlock.caFile, 'utf8'), namespace, pod, pid: airlock.pid };
  targets.push(through);
  return { fake: fake.ready, fakePid: fake.pid, airlock, ...(kubectl ? { kubectl } : {}), targets, direct, through };
}
