/**
 * `airlock audit verify` and `airlock audit tail`: check the ledger's chain, checkpoint
 * signatures and witnesses, and follow entries as they are appended. Both read the store
 * directly; no running gateway is needed.
 */
import type { Command } from 'commander';
import { exportLedgerPublicKey, formatEntryLine, openLedgerReader, tailLedger, verifyLedger, type VerifyReport } from '../ledger/index.js';
import { readerOptionsFromConfig } from '../gateway/ledger-options.js';
import { addConfigOptions, configFromOptions, readArgFile, type ConfigOptions } from './common-options.js';

interface VerifyOptions extends ConfigOptions {
  publicKey?: string;
  witness?: string;
  json?: boolean;
}

interface TailOptions extends ConfigOptions {
  json?: boolean;
  chain?: string;
  from?: string;
}

/** registerAudit adds `airlock audit verify|tail|public-key`. */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident ledger');

  const verify = audit
    .command('verify')
    .description('check the hash chain, every checkpoint signature and the witness; names the first bad entry')
    .option('--public-key <file>', 'trust this checkpoint public key (PEM) instead of the one in the data dir')
    .option('--witness <file>', 'a witness file of checkpoints kept outside the store (default: the configured file witness)')
    .option('--json', 'print the report as JSON');
  addConfigOptions(verify).action(async (options: VerifyOptions) => {
    const config = configFromOptions(options);
    // The key given is read first: a mistyped --public-key is the caller's to fix before anything else.
    const givenKey = options.publicKey ? readArgFile('--public-key', options.publicKey) : undefined;
    const reader = await openLedgerReader(readerOptionsFromConfig(config));
    try {
      const publicKey = givenKey ?? exportLedgerPublicKey(config.data);
      const witnessFile = options.witness ?? config.ledger.witness.find((w) => w.file !== undefined)?.file;
      const report = await verifyLedger(reader, { publicKey, ...(witnessFile ? { witness: { file: witnessFile } } : {}) });
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      if (!report.ok) process.exitCode = 3;
    } finally {
      await reader.close();
    }
  });

  const tail = audit
    .command('tail')
    .description('print ledger entries as they are appended (Ctrl-C to stop)')
    .option('--json', 'one JSON entry per line')
    .option('--chain <id>', 'follow only this chain')
    .option('--from <seq>', 'start at this sequence number (default: only new entries)');
  addConfigOptions(tail).action(async (options: TailOptions) => {
    const config = configFromOptions(options);
    const reader = await openLedgerReader(readerOptionsFromConfig(config));
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const fromSeq = options.from !== undefined ? Number(options.from) : undefined;
      for await (const entry of tailLedger(reader, { signal: stop.signal, chain: options.chain, fromSeq })) {
        process.stdout.write(options.json ? `${JSON.stringify(entry)}\n` : `${formatEntryLine(entry)}\n`);
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await reader.close();
    }
  });

  const publicKey = audit.command('public-key').description('print the checkpoint public key (PEM) to give auditors and witnesses');
  addConfigOptions(publicKey).action((options: ConfigOptions) => {
    process.stdout.write(exportLedgerPublicKey(configFromOptions(options).data));
  });
}

function formatReport(report: VerifyReport): string {
  const lines: string[] = [];
  for (const chain of report.chains) {
    const bad = chain.firstBad ? `  FIRST BAD ENTRY: seq ${chain.firstBad.seq}${chain.firstBad.id ? ` (${chain.firstBad.id})` : ''}: ${chain.firstBad.reason}: ${chain.firstBad.message}` : '';
    lines.push(`chain ${chain.chain}: ${chain.entries} entries, ${chain.validCheckpoints}/${chain.checkpoints} checkpoints valid${bad ? '' : ', ok'}`);
    if (bad) lines.push(bad);
  }
  if (report.chains.length === 0) lines.push('the ledger is empty');
  for (const p of report.problems) lines.push(`  problem: ${p.chain}${p.seq !== undefined ? `#${p.seq}` : ''}: ${p.reason}: ${p.message}`);
  lines.push(report.ok ? 'ledger verified: ok' : 'ledger verification FAILED');
  return `${lines.join('\n')}\n`;
}
