/**
 * `airlock token mint` and `airlock token exec`: sign a short-lived token with the built-in
 * issuer's key in the data directory. `mint` prints the token; `exec` prints it as a
 * client.authentication.k8s.io/v1 ExecCredential, which is what kubectl expects from the
 * exec credential plugin of a kubeconfig made by `airlock kubeconfig` (kubectl keeps it in
 * memory and runs the plugin again when it nears expiry). The token goes to stdout and
 * nowhere else (never logged, never recorded).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { decodeJwt } from 'jose';
import type { AirlockConfig } from '../config/index.js';
import { openBuiltinIssuer, parseTtl } from '../identity/index.js';
import { AirlockError } from '../errors.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from './common-options.js';

interface MintOptions extends ConfigOptions {
  subject: string;
  group: string[];
  ttl: string;
  kind?: string;
  json?: boolean;
}

/** What to mint: as typed on the command line (the ttl is still text, e.g. `15m`). */
export interface MintInput {
  subject: string;
  groups: string[];
  ttl: string;
  kind?: string;
}

export interface MintedToken {
  token: string;
  /** The token's `exp`, in seconds since the epoch. */
  expiresAt: number;
}

/** The client.authentication.k8s.io/v1 ExecCredential an exec plugin prints. */
export interface ExecCredential {
  apiVersion: 'client.authentication.k8s.io/v1';
  kind: 'ExecCredential';
  status: { token: string; expirationTimestamp: string };
}

/**
 * mintBuiltinToken signs a token with the built-in issuer of `config`; it throws
 * AIRLOCK_INPUT_INVALID when the issuer is disabled or the subject, a group, the kind or the
 * ttl is not acceptable.
 */
export async function mintBuiltinToken(config: AirlockConfig, input: MintInput): Promise<MintedToken> {
  if (!config.identity.builtin.enabled) {
    throw new AirlockError('AIRLOCK_INPUT_INVALID', 'the built-in issuer is disabled in this configuration (identity.builtin.enabled: false)');
  }
  const kind = input.kind;
  if (kind !== undefined && kind !== 'agent' && kind !== 'human') {
    throw new AirlockError('AIRLOCK_INPUT_INVALID', `--kind must be agent or human, got ${JSON.stringify(kind)}`);
  }
  const issuer = await openBuiltinIssuer({
    dataDir: config.data,
    issuer: config.admin.url,
    audience: config.identity.builtin.audience,
    maxTtlSeconds: Math.floor(config.identity.builtin.maxTtl / 1000),
  });
  const ttlSeconds = parseTtl(input.ttl);
  const token = await issuer.mint({ subject: input.subject, groups: input.groups, ttlSeconds, kind });
  // The expiry is read back from the token itself, so what is reported is exactly what was signed.
  const exp = decodeJwt(token).exp;
  return { token, expiresAt: typeof exp === 'number' ? exp : Math.floor(Date.now() / 1000) + ttlSeconds };
}

/** execCredential wraps a minted token for kubectl; the timestamp is RFC 3339 in whole seconds. */
export function execCredential(minted: MintedToken): ExecCredential {
  return {
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    status: { token: minted.token, expirationTimestamp: rfc3339(minted.expiresAt) },
  };
}

/** registerToken adds `airlock token mint` and `airlock token exec`. */
export function registerToken(program: Command): void {
  const token = program.command('token').description('tokens of the built-in issuer');
  const mint = mintFlags(token.command('mint').description('print a short-lived JWT signed by the built-in issuer'))
    .option('--json', 'print {"token","expiresAt"} as JSON');
  addConfigOptions(mint, true).action(async (options: MintOptions) => {
    const minted = await mintBuiltinToken(existingDataDir(configFromOptions(options)), inputFrom(options));
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ token: minted.token, expiresAt: new Date(minted.expiresAt * 1000).toISOString() })}\n`);
    } else {
      process.stdout.write(`${minted.token}\n`);
    }
  });

  const exec = mintFlags(
    token
      .command('exec')
      .description('print a token as a kubectl ExecCredential (the exec credential plugin of `airlock kubeconfig`)'),
  );
  addConfigOptions(exec, true).action(async (options: MintOptions) => {
    const minted = await mintBuiltinToken(existingDataDir(configFromOptions(options)), inputFrom(options));
    process.stdout.write(`${JSON.stringify(execCredential(minted))}\n`);
  });
}

/**
 * existingDataDir refuses a data directory that does not exist: minting there would create a
 * new issuer key whose tokens no running airlock accepts, and a mistyped --data would show up
 * only later, as kubectl's "You must be logged in to the server".
 */
function existingDataDir(config: AirlockConfig): AirlockConfig {
  if (!existsSync(config.data)) {
    throw new AirlockError(
      'AIRLOCK_INPUT_INVALID',
      `there is no data directory at ${config.data}, so no built-in issuer key to sign with: pass the --data (or --config) airlock runs with, or start airlock once with it`,
    );
  }
  return config;
}

function mintFlags(command: Command): Command {
  return command
    .requiredOption('-s, --subject <subject>', 'who the token is for, e.g. agent:deploy-bot or user:alice')
    .option('-g, --group <group>', 'a group the subject belongs to (repeatable)', collect, [])
    .option('-t, --ttl <duration>', 'lifetime, e.g. 15m, 1h', '15m')
    .option('-k, --kind <kind>', 'agent or human (default: agent for an agent: subject)');
}

function inputFrom(options: MintOptions): MintInput {
  return { subject: options.subject, groups: options.group, ttl: options.ttl, ...(options.kind !== undefined && { kind: options.kind }) };
}

/** rfc3339 formats epoch seconds as `2025-01-02T03:04:05Z`, the form Kubernetes writes. */
function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** collect gathers a repeatable option's values. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
