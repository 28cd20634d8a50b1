/**
 * `airlock import k8s-audit FILE...`: bring a cluster's existing Kubernetes audit logs into the
 * ledger as `imported` entries (not witnessed by airlock), so exports cover the time before
 * airlock too. Entries go to their own chain (`import` by default), never to a chain a running
 * gateway writes. Importing the same file again adds nothing. See docs/import.md.
 *
 * Exit codes: 0 every line imported or already there; 1 imported, but some lines were bad and
 * skipped; 2 nothing more was written (a bad line under --strict, a file that cannot be read,
 * the ledger unavailable, a bad flag).
 */
import { CommanderError, type Command } from 'commander';
import { isAirlockError } from '../errors.js';
import { ledgerOptionsFromConfig, readerOptionsFromConfig } from '../gateway/ledger-options.js';
import { importK8sAudit, knownAuditIds, formatLocation, type K8sAuditImportReport } from '../evidence/k8s-audit-import.js';
import { openLedger, openLedgerReader, type Ledger, type LedgerReader } from '../ledger/index.js';
import { createLogger, type Logger } from '../log.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from './common-options.js';

interface K8sAuditOptions extends Pick<ConfigOptions, 'config' | 'data'> {
  connection: string;
  chain: string;
  strict?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

/** Where the command writes and logs; the defaults are the process's own. */
export interface ImportIo {
  out?: (text: string) => void;
  err?: (text: string) => void;
  logger?: Logger;
}

/** The chain imported entries go to unless `--chain` says otherwise. */
export const DEFAULT_IMPORT_CHAIN = 'import';

/** Bad lines printed in the summary; `--json` lists up to the report's own limit. */
const BAD_LINES_SHOWN = 10;

/** registerImport adds `airlock import k8s-audit`. */
export function registerImport(program: Command, io: ImportIo = {}): void {
  const out = io.out ?? ((text: string) => void process.stdout.write(text));
  const err = io.err ?? ((text: string) => void process.stderr.write(text));

  const group = program.command('import').description('bring records made outside airlock into the ledger, marked as not witnessed by airlock');
  const k8s = group
    .command('k8s-audit')
    .description('import Kubernetes audit logs (audit.k8s.io/v1 Event JSON lines, or an EventList); bodies are never imported')
    .argument('<file...>', 'audit log files, oldest first (a request\'s stages may straddle rotated files)')
    .option('--connection <name>', 'connection the entries are filed under', 'imported')
    .option('--chain <id>', 'ledger chain to write (keep it apart from the chains gateways write)', DEFAULT_IMPORT_CHAIN)
    .option('--strict', 'import nothing if any line is bad')
    .option('--dry-run', 'read and count everything, write nothing')
    .option('--json', 'print the report as JSON');
  addConfigOptions(k8s);
  k8s.exitOverride((e) => {
    throw e.exitCode === 0 ? e : new CommanderError(2, e.code, e.message);
  });

  k8s.action(async (files: string[], options: K8sAuditOptions) => {
    try {
      const report = await runImport(files, options, io.logger);
      out(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatImportReport(report, options));
      process.exitCode = report.refused ? 2 : report.badLines > 0 ? 1 : 0;
    } catch (e) {
      err(`airlock: ${isAirlockError(e) ? `${e.message} [${e.code}]` : e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 2;
    }
  });
}

async function runImport(files: string[], options: K8sAuditOptions, logger?: Logger): Promise<K8sAuditImportReport> {
  const config = configFromOptions({ config: options.config, data: options.data });
  let ledger: Ledger | undefined;
  let reader: LedgerReader | undefined;
  try {
    if (!options.dryRun) {
      // Closed, whatever the gateway's setting: an entry the ledger could not record must
      // fail the import, not be counted as imported.
      ledger = await openLedger({
        ...ledgerOptionsFromConfig(config),
        chain: options.chain,
        failureMode: 'closed',
        logger: logger ?? createLogger({ level: process.env.AIRLOCK_LOG_LEVEL ?? 'warn' }),
      });
    }
    reader = await openReader(config, options.dryRun === true);
    const known = reader ? await knownAuditIds(reader) : new Set<string>();
    await reader?.close();
    reader = undefined;
    const writer = ledger;
    return await importK8sAudit(files, {
      connection: options.connection,
      known,
      strict: options.strict === true,
      ...(writer ? { append: (input) => writer.append(input) } : {}),
    });
  } finally {
    await reader?.close();
    // Closing signs a checkpoint over everything appended.
    await ledger?.close();
  }
}

/** A dry run against a data dir with no ledger yet has nothing to compare with. */
async function openReader(config: ReturnType<typeof configFromOptions>, dryRun: boolean): Promise<LedgerReader | undefined> {
  try {
    return await openLedgerReader(readerOptionsFromConfig(config));
  } catch (e) {
    if (dryRun && isAirlockError(e) && e.code === 'AIRLOCK_LEDGER_NOT_FOUND') return undefined;
    throw e;
  }
}

/** formatImportReport is the summary people read. */
export function formatImportReport(report: K8sAuditImportReport, options: { chain: string; connection: string }): string {
  const lines: string[] = [];
  const files = `${report.files} file${report.files === 1 ? '' : 's'}`;
  if (report.refused) {
    lines.push(`nothing imported: --strict and ${report.badLines} bad line${report.badLines === 1 ? '' : 's'} in ${files}`);
  } else if (report.dryRun) {
    lines.push(`dry run: would import ${report.imported} from ${files} (${report.events} events read); nothing written`);
  } else {
    lines.push(`imported ${report.imported} into chain ${options.chain} as connection ${options.connection}, not witnessed by airlock (${report.events} events read from ${files})`);
  }
  if (!report.refused) {
    lines.push(`skipped duplicates ${report.duplicates}`);
    if (report.earlierStages > 0) lines.push(`earlier stages folded into their request ${report.earlierStages}`);
  }
  lines.push(`bad lines ${report.badLines}`);
  for (const bad of report.bad.slice(0, BAD_LINES_SHOWN)) lines.push(`  ${printable(formatLocation(bad))}: ${printable(bad.reason)}`);
  const more = report.badLines - Math.min(report.bad.length, BAD_LINES_SHOWN);
  if (more > 0) lines.push(`  … and ${more} more`);
  return `${lines.join('\n')}\n`;
}

/** printable escapes control characters, so a hostile log line cannot rewrite the terminal. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
