/**
 * Options shared by commands that read airlock's configuration: `--config FILE` plus the flags
 * that override the file for the common cases (so a first try needs no file at all).
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { AirlockError } from '../errors.js';
import { resolveConfig, type AirlockConfig, type ConfigFlags } from '../config/index.js';

/** The parsed flags: `--config` plus every flag resolveConfig knows (see ConfigFlags). */
export interface ConfigOptions extends ConfigFlags {
  config?: string;
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
      .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']))
      .option('--kubeconfig <file>', 'put the cluster of this kubeconfig behind airlock as connection `default`')
      .option('--context <name>', 'the kubeconfig context to use (default: its current context)')
      .option('--upstream <url>', 'API server URL of the cluster behind airlock (connection `default`)')
      .option('--upstream-token-file <file>', 'bearer token file airlock uses upstream (re-read when it changes)')
      .option('--upstream-ca <file>', 'CA bundle of the upstream API server')
      .option('--upstream-insecure', 'do not verify the upstream certificate (test clusters only)');
  }
  return command;
}

/** configFromOptions resolves the configuration from the file and flags; errors name file, line and field. */
export function configFromOptions(options: ConfigOptions): AirlockConfig {
  return resolveConfig({
    configFile: options.config,
    // commander leaves unset flags undefined, which is what resolveConfig expects.
    flags: { ...options, config: undefined } as ConfigFlags,
    env: process.env,
    cwd: process.cwd(),
  });
}

/**
 * readArgFile reads a file named on the command line; a missing or unreadable file is
 * AIRLOCK_INPUT_INVALID naming the flag and the path, not a bare ENOENT.
 */
export function readArgFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new AirlockError('AIRLOCK_INPUT_INVALID', `${flag}: cannot read ${path} (${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)})`);
  }
}
