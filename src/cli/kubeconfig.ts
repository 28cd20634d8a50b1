/**
 * `airlock kubeconfig`: write a kubeconfig that sends an agent's kubectl (or client-go,
 * or @kubernetes/client-node) through airlock to one connection. Its cluster is airlock's
 * Kubernetes endpoint, `https://<listen>/k8s/<connection>`, trusted through airlock's CA;
 * its user is an exec credential plugin, `airlock token exec`, which mints a short-lived
 * token from the built-in issuer whenever kubectl needs one.
 *
 * The file holds no cluster credential and no token: only where airlock is, which CA signs
 * it, and the command that mints tokens. It is written with mode 0600 all the same, since
 * it tells its reader how to act as the subject. The plugin reads the issuer key in the data
 * directory, so it works for agents that run as a user who can read that directory (the
 * quick start, a sidecar); agents elsewhere get tokens from an OIDC issuer instead.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { parseHostPort, urlForListener, type AirlockConfig } from '../config/index.js';
import { AirlockError } from '../errors.js';
import { isConnectionName } from '../protocols/kubernetes/connection-prefix.js';
import { ensureQuickstartTls } from '../server/tls-certificates.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from './common-options.js';
import { collect, mintBuiltinToken } from './token.js';

interface KubeconfigCommandOptions extends ConfigOptions {
  connection: string;
  subject: string;
  group: string[];
  ttl: string;
  kind?: string;
  server?: string;
  out: string;
}

/** The quick-start connection airlock creates at run time when no cluster is configured. */
export const sandboxConnection = 'sandbox';

/**
 * The connection `airlock start --kubeconfig FILE` or `--upstream URL` creates from its flags:
 * the banner's `airlock kubeconfig --connection default` runs without those flags, so the name
 * is known here as the sandbox's is.
 */
export const oneLineStartConnection = 'default';

export interface AgentKubeconfigRequest {
  connection: string;
  subject: string;
  groups: string[];
  ttl: string;
  kind?: string;
  /** airlock's external base URL (`https://airlock.example.com:8443`); default: from `listen`. */
  server?: string;
  /** Where to write the kubeconfig. */
  out: string;
  /** The flags that let the plugin find the same configuration (`--config FILE`, `--data DIR`, `--admin …`). */
  configArgs: string[];
}

/** How the exec plugin is started: a command and the arguments before `token exec`. */
export interface PluginCommand {
  command: string;
  args: string[];
}

export interface WrittenKubeconfig {
  file: string;
  server: string;
  context: string;
}

/** registerKubeconfig adds `airlock kubeconfig`. */
export function registerKubeconfig(program: Command): void {
  const cmd = program
    .command('kubeconfig')
    .description("write a kubeconfig that reaches a cluster through airlock, with airlock's exec credential plugin")
    .requiredOption('--connection <name>', 'the connection to reach (`sandbox` for the quick start)')
    .requiredOption('-s, --subject <subject>', 'who the agent is, e.g. agent:deploy-bot')
    .option('-g, --group <group>', 'a group the subject belongs to (repeatable)', collect, [])
    .option('-t, --ttl <duration>', 'lifetime of each token the plugin mints, e.g. 15m', '15m')
    .option('-k, --kind <kind>', 'agent or human (default: agent for an agent: subject)')
    .option('--server <url>', "airlock's external URL, e.g. https://airlock.example.com:8443 (default: from --listen)")
    .requiredOption('-o, --out <file>', 'the kubeconfig file to write (mode 0600)');
  addConfigOptions(cmd, true).action(async (options: KubeconfigCommandOptions) => {
    const config = configFromOptions(options);
    const written = await writeAgentKubeconfig(config, {
      connection: options.connection,
      subject: options.subject,
      groups: options.group,
      ttl: options.ttl,
      ...(options.kind !== undefined && { kind: options.kind }),
      ...(options.server !== undefined && { server: options.server }),
      out: options.out,
      configArgs: pluginConfigArgs(options, config),
    });
    process.stdout.write(
      [
        `wrote ${written.file}: context ${written.context} → ${written.server} as ${options.subject}`,
        `try: KUBECONFIG=${written.file} kubectl get namespaces`,
        '',
      ].join('\n'),
    );
  });
}

/**
 * writeAgentKubeconfig checks the request, makes sure the quick-start CA exists when airlock
 * generates its own certificate, and writes the kubeconfig (mode 0600, replaced atomically).
 * It throws AIRLOCK_INPUT_INVALID for an unknown connection (listing the known ones), a
 * subject, group, kind or ttl the issuer would refuse, a bad --server URL, or an --out file
 * that cannot be written.
 */
export async function writeAgentKubeconfig(
  config: AirlockConfig,
  request: AgentKubeconfigRequest,
  plugin: PluginCommand = { command: process.execPath, args: [airlockBinPath()] },
): Promise<WrittenKubeconfig> {
  checkConnection(config, request.connection);
  // A trial mint: whatever the issuer would refuse later, inside kubectl, is refused now.
  await mintBuiltinToken(config, request);
  const base = serverBase(config, request.server);
  const server = `${base.origin}/k8s/${request.connection}`;
  const caPem = await gatewayCa(config, base.hostname.replace(/^\[|\]$/g, ''));
  const context = `airlock-${request.connection}`;
  const args = [
    ...plugin.args,
    'token', 'exec',
    ...request.configArgs,
    '--subject', request.subject,
    ...request.groups.flatMap((g) => ['--group', g]),
    '--ttl', request.ttl,
    ...(request.kind !== undefined ? ['--kind', request.kind] : []),
  ];
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: context, cluster: { server, ...(caPem !== undefined && { 'certificate-authority-data': Buffer.from(caPem).toString('base64') }) } }],
    users: [
      {
        name: context,
        user: {
          exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin.command, args, interactiveMode: 'Never', provideClusterInfo: false },
        },
      },
    ],
    contexts: [{ name: context, context: { cluster: context, user: context } }],
    'current-context': context,
  };
  const file = resolve(request.out);
  // Written beside the target and renamed over it: the file is never seen half-written or with wider permissions.
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, `# written by airlock kubeconfig: no credential inside; tokens come from the exec plugin\n${stringify(kubeconfig)}`, { mode: 0o600 });
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw new AirlockError('AIRLOCK_INPUT_INVALID', `cannot write ${file} (${(err as { code?: string }).code ?? 'error'}); check that its directory exists and is writable`);
  }
  return { file, server, context };
}

/**
 * pluginConfigArgs repeats what the plugin needs to find the same issuer: the config file
 * (absolute), the data dir, and the admin listener (the issuer URL derives from it).
 */
export function pluginConfigArgs(options: ConfigOptions, config: AirlockConfig): string[] {
  const file = options.config ?? (process.env.AIRLOCK_CONFIG || undefined);
  const args: string[] = [];
  if (file !== undefined) args.push('--config', resolve(file));
  if (file === undefined || options.data !== undefined) args.push('--data', config.data);
  if (options.admin !== undefined) args.push('--admin', options.admin);
  return args;
}

function checkConnection(config: AirlockConfig, name: string): void {
  const known = config.connections.map((c) => c.name);
  if (name === sandboxConnection || name === oneLineStartConnection || known.includes(name)) return;
  const hint = isConnectionName(name) ? '' : ' (names are lower-case letters, digits and dashes)';
  const implicit = [
    ...(known.includes(oneLineStartConnection) ? [] : [`${oneLineStartConnection} (airlock start --kubeconfig or --upstream)`]),
    `${sandboxConnection} (the quick start, when no cluster is configured)`,
  ];
  throw new AirlockError('AIRLOCK_INPUT_INVALID', `connection "${name}" is not configured${hint}; known connections: ${[...known, ...implicit].join(', ')}`);
}

/** serverBase is airlock's external URL: --server, else the URL a local client dials for `listen`. */
function serverBase(config: AirlockConfig, server: string | undefined): URL {
  if (server !== undefined) {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new AirlockError('AIRLOCK_INPUT_INVALID', `--server "${server}" is not a URL; expected e.g. https://airlock.example.com:8443`);
    }
    if (url.protocol !== 'https:' || url.search !== '' || url.hash !== '' || url.username !== '' || !['', '/'].includes(url.pathname)) {
      throw new AirlockError('AIRLOCK_INPUT_INVALID', `--server must be airlock's https:// base URL, without a path, e.g. https://airlock.example.com:8443`);
    }
    return url;
  }
  const address = parseHostPort(config.listen);
  if ('error' in address || address.port === 0) {
    throw new AirlockError('AIRLOCK_INPUT_INVALID', `the listener ${config.listen} has no fixed address agents can dial; pass --server https://HOST:PORT`);
  }
  return new URL(urlForListener(address, 'https'));
}

/**
 * gatewayCa is the PEM that signs airlock's certificate: `tls.ca` when airlock has its own
 * certificate (none: the system roots), else the quick-start CA, created now if need be so
 * the kubeconfig works from airlock's first start.
 */
async function gatewayCa(config: AirlockConfig, serverHost: string): Promise<string | undefined> {
  if (config.tls) return config.tls.ca === undefined ? undefined : readFileSync(config.tls.ca, 'utf8');
  // The hosts the gateway itself asks for at start (so it keeps this certificate) plus the
  // host agents dial; an unspecified listen address is dialled as loopback.
  const address = parseHostPort(config.listen);
  const listenHost = 'error' in address ? undefined : address.host === '0.0.0.0' || address.host === '::' ? '127.0.0.1' : address.host;
  const hosts = [...new Set([listenHost, 'localhost', '127.0.0.1', serverHost].filter((h): h is string => !!h))];
  const files = await ensureQuickstartTls(config.data, hosts);
  return readFileSync(files.caFile, 'utf8');
}

/** airlockBinPath finds bin/airlock.js of this package, from src/ (tsx) or dist/src/ (built) alike. */
export function airlockBinPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'bin', 'airlock.js');
    if (existsSync(candidate) && existsSync(join(dir, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new AirlockError('AIRLOCK_INTERNAL', 'cannot find bin/airlock.js of this airlock installation');
    dir = parent;
  }
}
