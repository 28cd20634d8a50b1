/**
 * `airlock token mint`: sign a short-lived token with the built-in issuer's key in the data
 * directory. The token goes to stdout and nowhere else (never logged, never recorded).
 */
import type { Command } from 'commander';
import { openBuiltinIssuer, parseTtl } from '../identity/index.js';
import { AirlockError } from '../errors.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from './common-options.js';

interface MintOptions extends ConfigOptions {
  subject: string;
  group: string[];
  ttl: string;
  kind?: 'agent' | 'human';
  json?: boolean;
}

/** registerToken adds `airlock token mint`. */
export function registerToken(program: Command): void {
  const token = program.command('token').description('tokens of the built-in issuer');
  const mint = token
    .command('mint')
    .description('print a short-lived JWT signed by the built-in issuer')
    .requiredOption('-s, --subject <subject>', 'who the token is for, e.g. agent:deploy-bot or user:alice')
    .option('-g, --group <group>', 'a group the subject belongs to (repeatable)', collect, [])
    .option('-t, --ttl <duration>', 'lifetime, e.g. 15m, 1h', '15m')
    .option('-k, --kind <kind>', 'agent or human (default: agent for an agent: subject)')
    .option('--json', 'print {"token","expiresAt"} as JSON');
  addConfigOptions(mint, true).action(async (options: MintOptions) => {
    const config = configFromOptions(options);
    if (!config.identity.builtin.enabled) {
      throw new AirlockError('AIRLOCK_INPUT_INVALID', 'the built-in issuer is disabled in this configuration (identity.builtin.enabled: false)');
    }
    if (options.kind && options.kind !== 'agent' && options.kind !== 'human') {
      throw new AirlockError('AIRLOCK_INPUT_INVALID', `--kind must be agent or human, got ${JSON.stringify(options.kind)}`);
    }
    const issuer = await openBuiltinIssuer({
      dataDir: config.data,
      issuer: config.admin.url,
      audience: config.identity.builtin.audience,
      maxTtlSeconds: Math.floor(config.identity.builtin.maxTtl / 1000),
    });
    const ttlSeconds = parseTtl(options.ttl);
    const jwt = await issuer.mint({ subject: options.subject, groups: options.group, ttlSeconds, kind: options.kind });
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ token: jwt, expiresAt: new Date(Date.now() + ttlSeconds * 1000).toISOString() })}\n`);
    } else {
      process.stdout.write(`${jwt}\n`);
    }
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
