/**
 * Bringing up the two routes of the streams benchmark, each server in its own process: the
 * fake API server (fake-upstream-process.ts, forked) and `airlock start` in front of it
 * (started as bench/kubernetes does, with airlock's defaults: SQLite ledger, embedded policy,
 * masking, the built-in issuer). The agent's token for airlock is minted by that issuer, as
 * `airlock token mint` prints it; airlock reaches the fake with the fake's admin token and
 * impersonates the agent.
 */
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintBuiltinToken } from '../../src/cli/token.js';
import { resolveConfig } from '../../src/config/index.js';
import { startAirlock, type AirlockProcess, type Running } from '../kubernetes/processes.js';
import type { ExecTarget } from './channel-client.js';
import type { FakeReady } from './fake-upstream-process.js';

const CONNECTION = 'bench';
const compiled = import.meta.url.endsWith('.js');

/** startFake forks the fake API server with the same loader as this process (tsx or none). */
async function startFake(fileBytes: number): Promise<Running & { ready: FakeReady }> {
  const entry = fileURLToPath(new URL(`./fake-upstream-process.${compiled ? 'js' : 'ts'}`, import.meta.url));
  const child = fork(entry, ['--file-bytes', String(fileBytes)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<FakeReady>((resolve, reject) => {
    child.once('message', (m) => resolve(m as FakeReady));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the fake API server exited (${code}) before it was ready`)));
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
  direct: ExecTarget;
  through: ExecTarget;
}

/** setUp starts both processes; each is pushed onto `children` at once, for the caller to stop. */
export async function setUp(dir: string, fileBytes: number, children: Running[], airlockNodeArgs: string[]): Promise<Setup> {
  const fake = await startFake(fileBytes);
  children.push(fake);
  const configFile = writeAirlockConfig(dir, writeKubeconfig(dir, fake.ready));
  const airlock = await startAirlock(configFile, CONNECTION, airlockNodeArgs);
  children.push(airlock);
  const minted = await mintBuiltinToken(resolveConfig({ configFile, env: process.env, cwd: dir }), { subject: 'agent:bench', groups: ['bench'], ttl: '1h' });
  const { namespace, pod } = fake.ready;
  return {
    fake: fake.ready,
    fakePid: fake.pid,
    airlock,
    direct: { name: 'direct', base: fake.ready.url, token: fake.ready.token, ca: fake.ready.caCert, namespace, pod },
    through: { name: 'airlock', base: airlock.url, token: minted.token, ca: readFileSync(airlock.caFile, 'utf8'), namespace, pod },
  };
}
