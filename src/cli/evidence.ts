/**
 * `airlock evidence export --since … --until … --out DIR`: the bundle an auditor takes away
 * (src/evidence/bundle.ts). `airlock evidence verify DIR [--public-key FILE]`: checks one with
 * nothing but its files — no gateway, no database.
 */
import type { Command } from 'commander';
import { loadLedgerSigningKey } from '../ledger/signing-key.js';
import { exportEvidenceBundle, verifyEvidenceBundle } from '../evidence/bundle.js';
import { addConfigOptions, configFromOptions, readArgFile, type ConfigOptions } from './common-options.js';
import { guarded, parseTimeFlag, usageExitsTwo, withReader } from './sessions.js';

interface ExportOptions extends ConfigOptions {
  since?: string;
  until?: string;
  out: string;
}

export function registerEvidence(program: Command): void {
  const evidence = program.command('evidence').description('evidence bundles for auditors: export one, verify one offline');
  const out = (text: string) => void process.stdout.write(text);
  const err = (text: string) => void process.stderr.write(text);

  const exportCommand = evidence
    .command('export')
    .description('write a signed evidence bundle for a period: session logs, audit events, approvals, replays, policies and masking in force, the ledger segment')
    .option('--since <time>', 'start of the period: RFC 3339, or a duration before now such as 7d (default: the start of the ledger)')
    .option('--until <time>', 'end of the period: RFC 3339, or a duration before now (default: now)')
    .requiredOption('-o, --out <dir>', 'a new (or empty) directory for the bundle');
  usageExitsTwo(exportCommand);
  addConfigOptions(exportCommand).action(async (options: ExportOptions) =>
    guarded(err, async () => {
      const now = new Date();
      const since = options.since !== undefined ? parseTimeFlag('--since', options.since, now) : undefined;
      const until = options.until !== undefined ? parseTimeFlag('--until', options.until, now) : undefined;
      const config = configFromOptions(options);
      const key = loadLedgerSigningKey(config.data);
      const publicPem = key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
      const manifest = await withReader(options, (reader) =>
        exportEvidenceBundle({ reader, key: { ...key, publicPem }, out: options.out, ...(since ? { since } : {}), ...(until ? { until } : {}) }),
      );
      const s = manifest.summary as Record<string, number>;
      out(
        `evidence bundle written to ${options.out}: ${s.requests ?? 0} requests (${s.denied ?? 0} denied, ${s.review ?? 0} sent to review), ` +
          `${s.approvals ?? 0} approval requests, ${s.terminalSessions ?? 0} terminal sessions, ${manifest.files.length} files, signed with key ${manifest.keyId}\n` +
          `verify it with: airlock evidence verify ${options.out} --public-key KEY.pem\n`,
      );
    }),
  );

  const verifyCommand = evidence
    .command('verify')
    .argument('<dir>', 'the bundle directory')
    .description('check a bundle offline: signed manifest and file hashes, the ledger segment against its checkpoints, every row against the ledger')
    .option('--public-key <file>', 'the ledger public key you trust (PEM; from `airlock audit public-key`); default: the key inside the bundle, which only proves self-consistency')
    .option('--json', 'print the report as JSON');
  usageExitsTwo(verifyCommand);
  verifyCommand.action(async (dir: string, options: { publicKey?: string; json?: boolean }) =>
    guarded(err, async () => {
      const report = await verifyEvidenceBundle(dir, options.publicKey ? { publicKey: readArgFile('--public-key', options.publicKey) } : {});
      if (options.json) out(`${JSON.stringify(report, null, 2)}\n`);
      else {
        const trust = report.selfTrusted ? ' — trusting the key inside the bundle; pass --public-key to pin the key you obtained from the operator' : '';
        if (report.ok) out(`evidence bundle verified: ok (key ${report.keyId ?? '?'}${trust})\n`);
        else {
          out(`evidence bundle FAILED verification (${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}):\n`);
          for (const p of report.problems) out(`  - ${p}\n`);
        }
      }
      process.exitCode = report.ok ? 0 : 1;
    }),
  );
}
