/**
 * `airlock export sessions|k8s-audit|replay`: evidence files for an auditor, read from the
 * ledger alone. Rows stream out as they are read, waiting for the output to drain, so a ledger
 * of millions of entries exports with flat memory. Exit code 0, or 2 with a plain error.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { AirlockError } from '../errors.js';
import { apiReplay, sessionTerminals } from '../evidence/api-replay.js';
import { writeAsciicast } from '../evidence/asciicast.js';
import { csvHeader, csvLine, jsonLine, toK8sAuditEvent } from '../evidence/export-formats.js';
import { requestRows, type RowQuery } from '../evidence/request-rows.js';
import type { ConfigOptions } from './common-options.js';
import { addConfigOptions } from './common-options.js';
import { guarded, parseTimeFlag, usageExitsTwo, withReader, type CliIo } from './sessions.js';

/** Where export writes when there is no --out; the process's stdout by default. */
export interface ExportIo extends CliIo {
  stdout?: Writable;
}

interface RangeOptions extends Pick<ConfigOptions, 'config' | 'data'> {
  since?: string;
  until?: string;
  out?: string;
}

interface SessionsExportOptions extends RangeOptions {
  format: 'csv' | 'jsonl';
}

interface ReplayExportOptions extends Pick<ConfigOptions, 'config' | 'data'> {
  out: string;
}

/** registerExport adds `airlock export sessions|k8s-audit|replay`. */
export function registerExport(program: Command, io: ExportIo = {}): void {
  const out = io.out ?? ((text: string) => void process.stdout.write(text));
  const err = io.err ?? ((text: string) => void process.stderr.write(text));
  const now = io.now ?? (() => new Date());
  const stdout = (): Writable => io.stdout ?? process.stdout;
  const exp = program.command('export').description('export evidence from the ledger: request logs, Kubernetes audit events, session replays');

  const range = (command: Command): Command =>
    command
      .option('--since <time>', 'only requests from this time on: RFC 3339, or a duration before now such as 24h or 7d')
      .option('--until <time>', 'only requests before this time: RFC 3339, or a duration before now')
      .option('-o, --out <file>', 'write to this file (default: standard output)');

  const sessions = range(
    exp
      .command('sessions')
      .description('every recorded request, one row each: who, what, the decision, the approval, the status')
      .addOption(new Option('--format <format>', 'csv or jsonl').choices(['csv', 'jsonl']).default('csv')),
  );
  addConfigOptions(sessions);
  usageExitsTwo(sessions);
  sessions.action((options: SessionsExportOptions) =>
    guarded(err, async () => {
      const query = rangeQuery(options, now());
      await withReader(options, (reader) =>
        writeLines(options.out, stdout(), async function* () {
          if (options.format === 'csv') yield csvHeader();
          for await (const row of requestRows(reader, query)) yield options.format === 'csv' ? csvLine(row) : jsonLine(row);
        }),
      );
    }),
  );

  const audit = range(exp.command('k8s-audit').description('every recorded request as a Kubernetes audit.k8s.io/v1 Event, one JSON line each'));
  addConfigOptions(audit);
  usageExitsTwo(audit);
  audit.action((options: RangeOptions) =>
    guarded(err, async () => {
      const query = rangeQuery(options, now());
      await withReader(options, (reader) =>
        writeLines(options.out, stdout(), async function* () {
          for await (const row of requestRows(reader, query)) yield `${JSON.stringify(toK8sAuditEvent(row))}\n`;
        }),
      );
    }),
  );

  const replay = exp
    .command('replay')
    .description('replay files of one session: an asciicast v2 file per terminal session and api.jsonl for its API requests')
    .argument('<session>', 'the session id, as `airlock sessions list` shows it')
    .requiredOption('-o, --out <dir>', 'the directory to write into (created if missing)');
  addConfigOptions(replay);
  usageExitsTwo(replay);
  replay.action((sessionId: string, options: ReplayExportOptions) =>
    guarded(err, async () => {
      const written = await withReader(options, async (reader) => {
        let requests = 0;
        const apiFile = join(options.out, 'api.jsonl');
        mkdirSync(options.out, { recursive: true });
        await writeLines(apiFile, stdout(), async function* () {
          for await (const line of apiReplay(reader, sessionId)) {
            requests++;
            yield `${JSON.stringify(line)}\n`;
          }
        });
        if (requests === 0) throw new AirlockError('AIRLOCK_INPUT_INVALID', `no recorded requests in session "${sessionId}"; \`airlock sessions list\` shows the recorded ones`);
        const files = [`${apiFile}: ${requests} ${requests === 1 ? 'request' : 'requests'}`];
        for (const terminal of await sessionTerminals(reader, sessionId)) {
          const request = terminal.request;
          const command = Array.isArray(request.action?.command) ? (request.action.command as string[]).join(' ') : undefined;
          const cast = writeAsciicast(terminal.events, {
            startedAt: Date.parse(request.time),
            ...(command ? { command } : {}),
            title: `${request.identity?.subject ?? 'unknown'} ${request.action?.subresource ?? 'exec'} ${request.action?.namespace ?? ''}/${request.action?.name ?? ''}`,
          });
          const file = join(options.out, `${request.id}.cast`);
          await writeLines(file, stdout(), async function* () {
            yield cast;
          });
          // A session part the store no longer holds is said, not passed off as a whole replay.
          const missing = terminal.missingParts ? ` (INCOMPLETE: ${terminal.missingParts} recorded part(s) missing from the blob store; run airlock audit verify)` : '';
          files.push(`${file}: ${terminal.events.length} terminal events${missing}`);
        }
        return files;
      });
      out(`${written.join('\n')}\n`);
    }),
  );
}

/** drained resolves at the stream's next 'drain' and rejects at an 'error', leaving no listener behind. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (e?: Error) => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      if (e) reject(e);
      else resolve();
    };
    const onDrain = () => settle();
    const onError = (e: Error) => settle(e);
    stream.on('drain', onDrain);
    stream.on('error', onError);
  });
}

function rangeQuery(options: RangeOptions, now: Date): RowQuery {
  const since = options.since !== undefined ? parseTimeFlag('--since', options.since, now) : undefined;
  const until = options.until !== undefined ? parseTimeFlag('--until', options.until, now) : undefined;
  return { ...(since ? { since } : {}), ...(until ? { until } : {}) };
}

/** Bytes gathered before one write: fewer, larger writes; never more than this in memory. */
const CHUNK = 64 * 1024;

/**
 * writeLines writes the produced text to `file` (or to `stdout` when no file is given),
 * gathering it into chunks and waiting for 'drain' whenever the stream asks to.
 */
export async function writeLines(file: string | undefined, stdout: Writable, produce: () => AsyncIterable<string>): Promise<void> {
  const target = file !== undefined ? createWriteStream(file) : stdout;
  let failure: Error | undefined;
  const onError = (e: Error) => (failure ??= e);
  target.on('error', onError);
  const opened = file !== undefined ? once(target, 'open') : Promise.resolve();
  try {
    await opened;
    let buffer = '';
    const flush = async () => {
      if (failure) throw failure;
      if (buffer === '') return;
      const ok = target.write(buffer);
      buffer = '';
      if (!ok) await drained(target);
      if (failure) throw failure;
    };
    for await (const text of produce()) {
      buffer += text;
      if (buffer.length >= CHUNK) await flush();
    }
    await flush();
    if (file !== undefined) {
      target.end();
      await once(target, 'finish');
    }
    if (failure) throw failure;
  } catch (e) {
    if (file !== undefined) target.destroy();
    throw e;
  } finally {
    target.off('error', onError);
  }
}
