/** `airlock config check FILE`: validate a configuration file and print what it means. */
import type { Command } from 'commander';
import { describeConfig, resolveConfig } from '../config/index.js';
import { isAirlockError } from '../errors.js';
import { loadGatewayTls } from '../server/tls-certificates.js';

/** registerConfig adds `airlock config check`. */
export function registerConfig(program: Command): void {
  const config = program.command('config').description('configuration files');
  config
    .command('check')
    .description('validate a configuration file; errors name the file, line, field and what was expected')
    .argument('<file>', 'the YAML configuration file')
    .action((file: string) => {
      try {
        const resolved = resolveConfig({ configFile: file, flags: {}, env: process.env, cwd: process.cwd() });
        // The gateway's certificate is checked as start checks it: readable, PEM, its key, valid now.
        if (resolved.tls) loadGatewayTls(resolved.tls);
        process.stdout.write(`${file}: ok\n${describeConfig(resolved)}\n`);
      } catch (err) {
        if (!isAirlockError(err)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = 2;
      }
    });
}
