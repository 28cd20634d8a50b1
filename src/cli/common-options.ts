/**
 * Options shared by commands that read airlock's configuration: `--config FILE` plus the flags
 * that override the file for the common cases (so a first try needs no file at all).
 */
import { Option, type Command } from 'commander';
import { resolveConfig, type AirlockConfig } from '../config/index.js';

export interface ConfigOptions {
  config?: string;
  data?: string;
  listen?: string;
  admin?: string;
  policy?: string;
  logLevel?: string;
}

/** addConfigOptions adds `--config` and `--data` (and, with `all`, the listener flags). */
export function addConfigOptions(command: Command, all = false): Command {
  command
    .option('-c, --config <file>', 'configuration file (default: $AIRLOCK_CONFIG, else built-in defaults)')
    .option('-d, --data <dir>', 'data directory: ledger, keys, generated TLS (default ./.airlock)');
  if (all) {
    command
      .option('--listen <host:port>', 'gateway listener (default 127.0.0.1:8443)')
      .option('--admin <host:port>', 'admin server listener (default 127.0.0.1:8444)')
      .option('--policy <file>', 'policy file (default: the embedded default policy)')
      .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']));
  }
  return command;
}

/** configFromOptions resolves the configuration from the file and flags; errors name file, line and field. */
export function configFromOptions(options: ConfigOptions): AirlockConfig {
  return resolveConfig({
    configFile: options.config,
    flags: {
      data: options.data,
      listen: options.listen,
      admin: options.admin,
      policy: options.policy,
      logLevel: options.logLevel,
    },
    env: process.env,
    cwd: process.cwd(),
  });
}
