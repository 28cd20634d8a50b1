/**
 * `airlock start`: run airlock. With no file and no flags it runs on embedded defaults: the
 * ledger in ./.airlock, the built-in issuer, the embedded default policy. It prints where it
 * listens, where its ledger is and how to mint a token, then runs until SIGINT/SIGTERM.
 * SIGHUP reloads the policy file (docs/configuration.md, "Reloading").
 */
import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { kubernetesConnectionSchema, type KubernetesConnectionConfig } from '../config/kubernetes-schema.js';
import type { AirlockConfig } from '../config/index.js';
import { startAirlock, type AirlockRuntime } from '../gateway/runtime.js';
import { storeFromConfig } from '../gateway/ledger-options.js';
import { formatHostPort, parseHostPort, redactUrl } from '../config/index.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from './common-options.js';

/** registerStart adds `airlock start`. */
export function registerStart(program: Command): void {
  const start = program.command('start').description('run airlock (embedded defaults when no configuration is given)');
  addConfigOptions(start, true).action(async (options: ConfigOptions) => {
    const config = configFromOptions(options);
    const sandbox = config.connections.length === 0 ? await startSandbox(config) : undefined;
    let runtime: AirlockRuntime;
    try {
      runtime = await startAirlock(config, { extraConnections: sandbox ? [sandbox.connection] : [] });
    } catch (err) {
      await sandbox?.close();
      throw err;
    }
    // Handlers first, banner second: whoever reads the banner may signal us at once.
    const stopped = waitForSignal(runtime, sandbox?.close);
    process.stdout.write(banner(runtime, options, sandbox?.url));
    await stopped;
  });
}

interface Sandbox {
  url: string;
  connection: KubernetesConnectionConfig;
  close(): Promise<void>;
}

/**
 * startSandbox runs the quick start's sandbox: the same fake API server the tests use (a test
 * double, not a cluster), so a first try shows airlock's behaviour without touching anything
 * real. It is only started when no connection is configured.
 */
async function startSandbox(config: AirlockConfig): Promise<Sandbox> {
  const fakeModule = new URL('../../test/fixtures/fake-apiserver/index.js', import.meta.url);
  const { startFakeApiServer } = (await import(fakeModule.href)) as {
    startFakeApiServer(options?: { minorVersion?: number }): Promise<{ url: string; token: string; caCert?: string; close(): Promise<void> }>;
  };
  const fake = await startFakeApiServer();
  const dir = join(config.data, 'sandbox');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = join(dir, 'ca.crt');
  writeFileSync(ca, fake.caCert ?? '');
  const connection = kubernetesConnectionSchema.parse({ name: 'sandbox', type: 'kubernetes', sandbox: true, upstream: { url: fake.url, token: fake.token, ca } });
  return { url: fake.url, connection, close: () => fake.close() };
}

/** shellWord quotes a word for a POSIX shell when it needs it (a path with a space, say). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * nextStepFlags are the flags the printed commands need to reach this airlock as it was
 * started: its configuration file and its data directory; with `admin`, also the admin
 * listener when a flag set it (the built-in issuer's name derives from it, so a token minted
 * under another name is refused); with `listen`, the gateway listener a flag moved (the
 * kubeconfig's server), with the port it got. Without them a copied command would talk to the
 * defaults instead.
 */
function nextStepFlags(runtime: AirlockRuntime, options: ConfigOptions, also: { admin?: boolean; listen?: string } = {}): string {
  const { config } = runtime;
  const flags: string[] = [];
  if (options.config !== undefined) flags.push('--config', resolve(options.config));
  if (config.data !== join(process.cwd(), '.airlock')) flags.push('--data', config.data);
  // As given, not as bound: the issuer's name is the configured address, even with port 0.
  if (also.admin && options.admin !== undefined) flags.push('--admin', options.admin);
  if (also.listen !== undefined && options.listen !== undefined) {
    const asked = parseHostPort(options.listen);
    const port = new URL(also.listen).port;
    if (!('error' in asked)) flags.push('--listen', formatHostPort({ host: asked.host, port: Number(port) }));
  }
  return flags.map((f) => ` ${shellWord(f)}`).join('');
}

function banner(runtime: AirlockRuntime, options: ConfigOptions, sandboxUrl?: string): string {
  const { config } = runtime;
  const store = storeFromConfig(config);
  const ledger = store.kind === 'sqlite' ? `${store.path} (SQLite, chain ${runtime.ledger.chain})` : `${redactUrl(store.url)} (PostgreSQL, chain ${runtime.ledger.chain})`;
  const policy = runtime.policy();
  const ledgerFlags = nextStepFlags(runtime, options);
  const issuerFlags = nextStepFlags(runtime, options, { admin: true });
  const lines = [
    '',
    'airlock is running',
    `  admin server   ${runtime.adminUrl}  (/healthz /readyz /metrics)`,
    `  ledger         ${ledger}`,
    `  policy         ${policy.file ?? 'embedded'} (${policy.rules.length} rules, default ${policy.default}, sha256 ${policy.policyHash.slice(0, 12)})`,
    ...policy.warnings.map((w) => `  policy warning ${w}`),
    `  data           ${config.data}`,
  ];
  if (runtime.issuer) {
    lines.push(`  token issuer   ${runtime.issuer.issuer}  (discovery: ${runtime.adminUrl}/.well-known/openid-configuration)`);
  }
  const kube = runtime.kubernetes;
  if (kube) {
    for (const name of kube.connections) lines.push(`  kubernetes     ${kube.url}/k8s/${name}${name === 'sandbox' ? '  (sandbox)' : ''}`);
    if (kube.caFile) lines.push(`  gateway CA     ${kube.caFile}`);
  }
  if (sandboxUrl) {
    lines.push(`  sandbox        ${sandboxUrl}: a local fake API server for trying airlock, NOT a cluster`);
    lines.push('                 (configure a cluster with --kubeconfig FILE or --upstream URL --upstream-token-file FILE)');
  }
  lines.push('', 'Next steps:');
  if (kube) {
    const conn = kube.connections[0] ?? 'default';
    const kubeconfigFlags = nextStepFlags(runtime, options, { admin: true, listen: kube.url });
    lines.push(`  write an agent's kubeconfig: npx airlock kubeconfig${kubeconfigFlags} --connection ${conn} --subject agent:deploy-bot --group ci --out agent.kubeconfig`);
    lines.push(`  read secrets (masked):       kubectl --kubeconfig agent.kubeconfig get secrets -o yaml`);
    lines.push(`  a refused request:           kubectl --kubeconfig agent.kubeconfig delete namespace kube-system`);
  }
  if (runtime.issuer) {
    lines.push(`  mint a token for an agent:   npx airlock token mint${issuerFlags} --subject agent:deploy-bot --group ci --ttl 15m`);
  }
  lines.push(`  follow the ledger:           npx airlock audit tail${ledgerFlags}`);
  lines.push(`  verify the ledger:           npx airlock audit verify${ledgerFlags}`);
  // The policy in force (its file, when one was given) and a connection this airlock has.
  const policyFlag = config.policy !== undefined ? ` --policy ${shellWord(config.policy)}` : '';
  const request = JSON.stringify({ protocol: 'kubernetes', connection: kube?.connections[0] ?? 'default', verb: 'delete', resource: 'namespaces', name: 'kube-system' });
  lines.push(`  try the policy:              npx airlock policy eval${policyFlag} --request ${shellWord(request)}`);
  lines.push('', 'Stop with Ctrl-C.', '');
  return lines.join('\n');
}

function waitForSignal(runtime: AirlockRuntime, alsoClose?: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      runtime.logger.info({ signal }, 'stopping');
      runtime
        .close()
        .then(() => alsoClose?.())
        .catch((err: unknown) => {
          runtime.logger.error({ err }, 'error while stopping');
          process.exitCode = 1;
        })
        .finally(() => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          process.off('SIGHUP', reload);
          resolve();
        });
    };
    // The reload logs and records its own outcome; a refused policy leaves the old one in force.
    const reload = () => {
      if (stopping) return;
      runtime.reload().catch((err: unknown) => runtime.logger.error({ err }, 'policy reload failed'));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    process.on('SIGHUP', reload);
  });
}
