/**
 * `airlock policy test`: replay the requests recorded in the ledger through a draft policy and
 * list every request whose decision would change. Exit code 0 when none would, 1 when some
 * would (so CI can gate a policy change on it), 2 when the test itself could not run (a draft
 * that does not compile, an unreadable ledger, a bad flag). See docs/policy-test.md.
 */
import { CommanderError, type Command } from 'commander';
import { parseDuration } from '../config/duration.js';
import { AirlockError, isAirlockError } from '../errors.js';
import { readerOptionsFromConfig } from '../gateway/ledger-options.js';
import { openLedgerReader, type EntryQuery } from '../ledger/index.js';
import { loadPolicyFile } from '../policy/index.js';
import { needsRequestBody, WhatIf, type WhatIfChange, type WhatIfReport } from '../policy/what-if.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from './common-options.js';

interface TestOptions extends Pick<ConfigOptions, 'config' | 'data'> {
  policy: string;
  since?: string;
  connection?: string;
  json?: boolean;
  limit: string;
}

/** Where the command writes, and its clock; the defaults are the process's own. */
export interface PolicyTestIo {
  out?: (text: string) => void;
  err?: (text: string) => void;
  now?: () => Date;
}

const DEFAULT_LIMIT = 50;

/** registerPolicyTest adds `test` to the `airlock policy` command group. */
export function registerPolicyTest(policyCommand: Command, io: PolicyTestIo = {}): void {
  const out = io.out ?? ((text: string) => void process.stdout.write(text));
  const err = io.err ?? ((text: string) => void process.stderr.write(text));
  const now = io.now ?? (() => new Date());

  const test = policyCommand
    .command('test')
    .description('replay recorded requests through a draft policy and list every decision that would change (exit 1 if any)')
    .requiredOption('-p, --policy <file>', 'the draft policy file')
    .option('--since <duration>', 'only requests recorded within this long before now, e.g. 24h or 7d (default: all)')
    .option('--connection <name>', 'only requests to this connection')
    .option('--json', 'print the full report as JSON')
    .option('--limit <n>', 'changed requests to list, newest first', String(DEFAULT_LIMIT));
  addConfigOptions(test);
  // A usage error is an error of the test, not a finding: exit 2, never 1.
  test.exitOverride((e) => {
    throw e.exitCode === 0 ? e : new CommanderError(2, e.code, e.message);
  });

  test.action(async (options: TestOptions) => {
    try {
      const report = await runPolicyTest(options, now());
      out(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatPolicyTest(report, limitOf(options.limit)));
      process.exitCode = report.changed > 0 ? 1 : 0;
    } catch (e) {
      err(`airlock: ${isAirlockError(e) ? `${e.message} [${e.code}]` : e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 2;
    }
  });
}

/** The report as `--json` prints it: what was replayed, then the what-if report. */
export interface PolicyTestReport extends WhatIfReport {
  policy: string;
  /** Start of the window replayed (inclusive); absent: the whole ledger. */
  since?: string;
  connection?: string;
}

async function runPolicyTest(options: TestOptions, now: Date): Promise<PolicyTestReport> {
  limitOf(options.limit); // refuse a bad --limit before any work
  const since = options.since !== undefined ? new Date(now.getTime() - parseDuration(options.since)).toISOString() : undefined;
  const draft = await loadPolicyFile(options.policy);
  for (const warning of draft.warnings) process.stderr.write(`policy warning: ${warning}\n`);
  const config = configFromOptions({ config: options.config, data: options.data });
  const reader = await openLedgerReader(readerOptionsFromConfig(config));
  try {
    const whatIf = new WhatIf(draft);
    const query: EntryQuery = { types: ['request'], ...(since ? { since } : {}) };
    for await (const entry of reader.entries(query)) {
      if (options.connection !== undefined && (entry.connection ?? entry.action?.connection) !== options.connection) continue;
      if (needsRequestBody(entry) && entry.request) {
        const bytes = await reader.blob(entry.request.sha256);
        whatIf.add(bytes ? { ...entry, requestBody: Buffer.from(bytes).toString('utf8') } : entry);
      } else {
        whatIf.add(entry);
      }
    }
    return {
      policy: options.policy,
      ...(since ? { since } : {}),
      ...(options.connection !== undefined ? { connection: options.connection } : {}),
      ...whatIf.report(),
    };
  } finally {
    await reader.close();
  }
}

function limitOf(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new AirlockError('AIRLOCK_INPUT_INVALID', `--limit must be a whole number of requests, not "${text}"`);
  return Number(text);
}

const arrow = '→';

/** formatPolicyTest renders the report for people: totals, transitions, then the changes. */
export function formatPolicyTest(report: PolicyTestReport, limit = DEFAULT_LIMIT): string {
  const lines: string[] = [];
  const scope = [report.since ? `since ${report.since}` : 'in the whole ledger', report.connection !== undefined ? `to connection ${report.connection}` : '']
    .filter(Boolean)
    .join(' ');
  lines.push(`${report.requests} recorded ${plural(report.requests, 'request')} ${scope} replayed through ${report.policy}:`);
  const unchanged = report.sameEffectOtherRules > 0 ? `${report.unchanged} unchanged (${report.sameEffectOtherRules} by other rules)` : `${report.unchanged} unchanged`;
  lines.push(`  ${report.changed} would change, ${unchanged}, ${report.unreplayable.total} could not be replayed${unreplayableDetail(report)}`);
  for (const t of report.transitions) lines.push(`  ${t.from} ${arrow} ${t.to}: ${t.count}`);
  if (report.objectUnknown > 0) {
    lines.push(
      `  note: ${report.objectUnknown} ${plural(report.objectUnknown, 'write')} replayed without the object it produced (patches are recorded as written); the draft's rules saw an empty \`object\` there`,
    );
  }
  if (report.changed === 0) {
    lines.push('no decision would change');
  } else {
    lines.push('changed requests, newest first:');
    for (const change of report.changes.slice(0, limit)) lines.push(`  ${formatChange(change)}`);
    const more = report.changes.length - Math.min(limit, report.changes.length);
    if (more > 0) lines.push(`  … and ${more} more (--limit ${report.changes.length} lists them all, --json prints the full report)`);
  }
  return `${lines.map(escapeControls).join('\n')}\n`;
}

/** formatChange: time, position, who, what, and the recorded and draft decisions. */
function formatChange(c: WhatIfChange): string {
  const rules = (r: string[]) => (r.length > 0 ? ` [${r.join(', ')}]` : ' [default]');
  const head = [c.time, c.position, c.subject, c.summary, c.outcome ? `(${c.outcome})` : undefined].filter(Boolean).join(' ');
  const errors = c.draft.errors?.length ? ` (rule errors: ${c.draft.errors.map((e) => `${e.rule}: ${e.error}`).join('; ')})` : '';
  const approx = c.objectUnknown ? ' (object not recorded)' : '';
  return `${head}: ${c.recorded.effect}${rules(c.recorded.rules)} ${arrow} ${c.draft.effect}${rules(c.draft.rules)}: ${c.draft.message}${errors}${approx}`;
}

function unreplayableDetail(report: WhatIfReport): string {
  const u = report.unreplayable;
  const parts = [
    u['no-identity'] ? `${u['no-identity']} refused before authentication` : '',
    u['no-action'] ? `${u['no-action']} refused before the request was understood` : '',
    u['no-decision'] ? `${u['no-decision']} refused before policy decided` : '',
  ].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

/** Recorded names and messages reach the terminal escaped, as in `audit tail`. */
function escapeControls(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
