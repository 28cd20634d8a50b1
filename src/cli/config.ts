/** `airlock config check FILE`: validate a configuration file and print what it means. */
import type { Command } from 'commander';
import { describeConfig, resolveConfig } from '../config/index.js';
import { isAirlockError } from '../errors.js';
import { loadConfiguredPolicy } from '../gateway/runtime.js';
import { loadGatewayTls } from '../server/tls-certificates.js';

/** registerConfig adds `airlock config check`. */
export function registerConfig(program: Command): void {
  const config = program.command('config').description('configuration files');
  config
    .command('check')
    .description('validate a configuration file (and its TLS files and policy); errors name the file, line, field and what was expected')
    .argument('<file>', 'the YAML configuration file')
    .action(async (file: string) => {
      try {
        const resolved = resolveConfig({ configFile: file, flags: {}, env: process.env, cwd: process.cwd() });
        // The gateway's certificate and the policy are checked as start checks them.
        if (resolved.tls) loadGatewayTls(resolved.tls);
        const policy = await loadConfiguredPolicy(resolved);
        process.stdout.write(`${file}: ok\n${describeConfig(resolved)}\n`);
        for (const warning of policy.warnings) process.stdout.write(`policy warning: ${warning}\n`);
      } catch (err) {
        if (!isAirlockError(err)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = 2;
      }
    });
}
