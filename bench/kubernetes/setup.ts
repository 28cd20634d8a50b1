/**
 * Bringing up one benchmark run: the upstream, a kubeconfig for it, and every route to it —
 * direct, `kubectl proxy`, the Node.js floor and `airlock start` — each gateway in its own
 * process. kubectl proxy and airlock read the same kubeconfig, so both reach the upstream
 * with the same token; the agent's credential for airlock is a token minted by airlock's
 * built-in issuer, as `airlock token mint` would print it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mintBuiltinToken } from '../../src/cli/token.js';
import { resolveConfig } from '../../src/config/index.js';
import type { Route } from './load.js';
import { rssBytes } from './proc.js';
import { findKubectl, startAirlock, startKubectlProxy, startNodeProxy, startUpstream, type Forked, type Running } from './processes.js';
import type { UpstreamReady } from './upstream-process.js';

const MB = 1024 * 1024;
/** The airlock connection name: clients reach the upstream at `/k8s/bench`. */
export const CONNECTION = 'bench';

export interface SetupOptions {
  /** Scratch directory for configuration, kubeconfig and airlock's data (removed by the caller). */
  dir: string;
  listItems: number;
  largeBytes: number;
  /** Routes to leave out: `kubectl-proxy`, `node-floor`. */
  skip: Set<string>;
  kubectl?: string;
  /** Extra node flags for the airlock process (e.g. `--cpu-prof`). */
  airlockNodeArgs: string[];
}

export interface Setup {
  routes: Route[];
  upstream: Forked<UpstreamReady>;
  airlock: Running;
  airlockDataDir: string;
}

/** writeAirlockConfig: airlock's defaults (SQLite ledger, embedded policy, masking on) plus one connection. */
function writeAirlockConfig(dir: string, kubeconfig: string): string {
  const file = join(dir, 'airlock.yaml');
  const config = {
    data: join(dir, 'airlock'),
    listen: '127.0.0.1:0',
    admin: { listen: '127.0.0.1:0' },
    log: { level: 'warn' },
    connections: [{ name: CONNECTION, type: 'kubernetes', upstream: { kubeconfig } }],
  };
  writeFileSync(file, `# Written by bench/kubernetes for one run.\n${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return file;
}

/** writeKubeconfig points kubectl proxy and airlock at the upstream with the same token. */
function writeKubeconfig(dir: string, url: string, caCert: string, token: string): string {
  const file = join(dir, 'upstream.kubeconfig');
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'bench-upstream', cluster: { server: url, 'certificate-authority-data': Buffer.from(caCert).toString('base64') } }],
    users: [{ name: 'bench', user: { token } }],
    contexts: [{ name: 'bench', context: { cluster: 'bench-upstream', user: 'bench' } }],
    'current-context': 'bench',
  };
  writeFileSync(file, JSON.stringify(kubeconfig, null, 2), { mode: 0o600 });
  return file;
}

/**
 * setUp starts everything and returns the routes in the order they are measured; every
 * process it started is pushed onto `children` at once, so the caller can stop them even
 * when a later step fails.
 */
export async function setUp(options: SetupOptions, children: Running[]): Promise<Setup> {
  const { dir } = options;
  const upstream = await startUpstream(options.listItems, options.largeBytes);
  children.push(upstream);
  const { url, caCert, token, listBytes } = upstream.ready;
  console.log(`upstream   ${url} (benchmark stand-in: ConfigMap, SecretList of ${options.listItems} = ${(listBytes / MB).toFixed(2)} MB, generated large lists)`);
  const kubeconfig = writeKubeconfig(dir, url, caCert, token);
  const routes: Route[] = [{ name: 'direct', origin: url, prefix: '', headers: { authorization: `Bearer ${token}` }, ca: caCert }];

  const kubectl = options.skip.has('kubectl-proxy') ? undefined : findKubectl(options.kubectl);
  if (kubectl) {
    const proxy = await startKubectlProxy(kubectl, kubeconfig);
    children.push(proxy);
    console.log(`proxy      ${proxy.url} (${kubectl} proxy, pid ${proxy.pid})`);
    routes.push({ name: 'kubectl proxy', origin: proxy.url, prefix: '', headers: {}, pid: proxy.pid });
  } else if (!options.skip.has('kubectl-proxy')) {
    console.log('proxy      kubectl not found (give --kubectl PATH): the kubectl proxy route is skipped');
  }

  if (!options.skip.has('node-floor')) {
    const caFile = join(dir, 'upstream-ca.crt');
    const tokenFile = join(dir, 'upstream.token');
    writeFileSync(caFile, caCert);
    writeFileSync(tokenFile, token, { mode: 0o600 });
    const floor = await startNodeProxy(url, caFile, tokenFile);
    children.push(floor);
    console.log(`node floor ${floor.ready.url} (node:https + undici Pool, no pipeline; pid ${floor.pid})`);
    routes.push({ name: 'node floor', origin: floor.ready.url, prefix: '', headers: {}, ca: floor.ready.caCert, pid: floor.pid });
  }

  const configFile = writeAirlockConfig(dir, kubeconfig);
  const airlock = await startAirlock(configFile, CONNECTION, options.airlockNodeArgs);
  children.push(airlock);
  const gateway = new URL(airlock.url);
  const minted = await mintBuiltinToken(resolveConfig({ configFile, env: process.env, cwd: dir }), { subject: 'agent:bench', groups: ['bench'], ttl: '1h' });
  const rss = rssBytes(airlock.pid);
  console.log(`airlock    ${airlock.url} (airlock start, pid ${airlock.pid}${rss ? `, RSS ${(rss / MB).toFixed(0)} MB at start` : ''}; SQLite ledger, embedded policy, Secret masking)`);
  routes.push({
    name: 'airlock',
    origin: gateway.origin,
    prefix: gateway.pathname,
    headers: { authorization: `Bearer ${minted.token}` },
    ca: readFileSync(airlock.caFile, 'utf8'),
    pid: airlock.pid,
    adminUrl: airlock.adminUrl,
  });
  return { routes, upstream, airlock, airlockDataDir: join(dir, 'airlock') };
}
