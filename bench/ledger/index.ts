/**
 * `npm run bench -- ledger [--seconds S] [--appenders N] [--pg]`
 *
 * Durable ledger appends per second and append latency (p50/p99) with N concurrent
 * appenders (default 64) for S seconds (default 5), on SQLite and, with --pg, on a
 * PostgreSQL started for the run; each next to a "direct" baseline writing the same rows
 * with the same durability. See README.md in this folder for how to read the output.
 */
import { cpus } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openLedger, type StoreSpec } from '../../src/ledger/index.js';
import { startPostgres } from '../../test/support/postgres.js';
import { directPostgres, directSqlite, fsyncLatency } from './direct.js';
import { closedLoop, requestEntry, type RunResult } from './workload.js';

const TARGET_PER_SECOND = 20_000;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    appenders: { type: 'string', default: '64' },
    pg: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const appenders = Number(values.appenders);

async function ledgerRun(dataDir: string, store: StoreSpec): Promise<RunResult & { lastSeq: number }> {
  const ledger = await openLedger({ dataDir, store });
  // A short warm-up: JIT, the writer thread's statements, the first WAL pages.
  await closedLoop(appenders, 0.5, (i) => ledger.append(requestEntry(i)));
  const result = await closedLoop(appenders, seconds, (i) => ledger.append(requestEntry(i)));
  const lastSeq = ledger.health().lastSeq;
  await ledger.close();
  return { ...result, lastSeq };
}

function line(name: string, r: RunResult): string {
  return `${name.padEnd(26)} ${Math.round(r.perSecond).toLocaleString('en-US').padStart(9)} entries/s   p50 ${r.p50ms.toFixed(2).padStart(6)} ms   p99 ${r.p99ms.toFixed(2).padStart(6)} ms   (${r.entries} in ${r.seconds.toFixed(1)} s)`;
}

async function main(): Promise<void> {
  console.log(`ledger benchmark: ${appenders} concurrent appenders, ${seconds} s per run`);
  console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}`);
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-ledger-'));
  try {
    const disk = fsyncLatency(join(dir, 'fsync.probe'));
    console.log(
      `disk: 4 KiB write + fdatasync p50 ${disk.p50ms.toFixed(2)} ms, p99 ${disk.p99ms.toFixed(2)} ms ` +
        `=> at most ~${Math.round((appenders * 1000) / disk.p50ms).toLocaleString('en-US')} durable entries/s for ${appenders} appenders waiting on their own commit`,
    );
    const sqlite = await ledgerRun(join(dir, 'sqlite'), { kind: 'sqlite' });
    const direct = directSqlite(join(dir, 'direct.db'), appenders, seconds);
    console.log('\nSQLite (WAL, synchronous=FULL: every commit fsynced)');
    console.log(line('  airlock ledger', sqlite));
    console.log(line(`  direct (batch ${appenders})`, direct));
    console.log(`  ledger/direct throughput ratio: ${(sqlite.perSecond / direct.perSecond).toFixed(2)}`);
    const verdict = sqlite.perSecond >= TARGET_PER_SECOND ? 'meets' : 'MISSES';
    console.log(`  target >= ${TARGET_PER_SECOND.toLocaleString('en-US')} entries/s: ${verdict}`);

    if (values.pg) {
      const server = await startPostgres();
      try {
        const url = await server.createDatabase('bench');
        const pgRun = await ledgerRun(join(dir, 'pg'), { kind: 'postgres', url });
        const pgDirect = await directPostgres(url, appenders, seconds);
        console.log('\nPostgreSQL (local test server: fsync=off, so this measures the protocol and CPU, not the disk)');
        console.log(line('  airlock ledger', pgRun));
        console.log(line(`  direct (batch ${appenders})`, pgDirect));
        console.log(`  ledger/direct throughput ratio: ${(pgRun.perSecond / pgDirect.perSecond).toFixed(2)}`);
      } finally {
        await server.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
