/**
 * `airlock start`: run airlock. With no file and no flags it runs on embedded defaults: the
 * ledger in ./.airlock, the built-in issuer, the embedded default policy. It prints where it
 * listens, where its ledger is and how to mint a token, then runs until SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { startAirlock, type AirlockRuntime } from '../gateway/runtime.js';
import { storeFromConfig } from '../gateway/ledger-options.js';
import { redactUrl } from '../config/index.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from './common-options.js';

/** registerStart adds `airlock start`. */
export function registerStart(program: Command): void {
  const start = program.command('start').description('run airlock (embedded defaults when no configuration is given)');
  addConfigOptions(start, true).action(async (options: ConfigOptions) => {
    const config = configFromOptions(options);
    const runtime = await startAirlock(config);
    // Handlers first, banner second: whoever reads the banner may signal us at once.
    const stopped = waitForSignal(runtime);
    process.stdout.write(banner(runtime));
    await stopped;
  });
}

function banner(runtime: AirlockRuntime): string {
  const { config } = runtime;
  const store = storeFromConfig(config);
  const ledger = store.kind === 'sqlite' ? `${store.path} (SQLite, chain ${runtime.ledger.chain})` : `${redactUrl(store.url)} (PostgreSQL, chain ${runtime.ledger.chain})`;
  const policy = runtime.policy();
  const dataFlag = config.data === process.cwd() + '/.airlock' ? '' : ` --data ${config.data}`;
  const lines = [
    '',
    'airlock is running',
    `  admin server   ${runtime.adminUrl}  (/healthz /readyz /metrics)`,
    `  ledger         ${ledger}`,
    `  policy         ${policy.file ?? 'embedded'} (${policy.rules.length} rules, default ${policy.default}, sha256 ${policy.policyHash.slice(0, 12)})`,
    `  data           ${config.data}`,
  ];
  if (runtime.issuer) {
    lines.push(`  token issuer   ${runtime.issuer.issuer}  (discovery: ${runtime.adminUrl}/.well-known/openid-configuration)`);
  }
  lines.push('', 'Next steps:');
  if (runtime.issuer) {
    lines.push(`  mint a token for an agent:   npx airlock token mint${dataFlag} --subject agent:deploy-bot --group ci --ttl 15m`);
  }
  lines.push(`  follow the ledger:           npx airlock audit tail${dataFlag}`);
  lines.push(`  verify the ledger:           npx airlock audit verify${dataFlag}`);
  lines.push(`  try the policy:              npx airlock policy eval --request '{"protocol":"kubernetes","connection":"default","verb":"delete","resource":"namespaces","name":"kube-system"}'`);
  lines.push('', 'Stop with Ctrl-C.', '');
  return lines.join('\n');
}

function waitForSignal(runtime: AirlockRuntime): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      runtime.logger.info({ signal }, 'stopping');
      runtime
        .close()
        .catch((err: unknown) => {
          runtime.logger.error({ err }, 'error while stopping');
          process.exitCode = 1;
        })
        .finally(() => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
