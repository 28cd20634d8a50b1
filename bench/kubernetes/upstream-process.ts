/**
 * Runs the benchmark upstream in its own process (forked by index.ts), so that serving the
 * workload does not share an event loop with the load client. It reports its address over
 * IPC, answers `stats` requests, and exits when its parent disconnects.
 *
 *   fork('upstream-process.js', ['--list-items', '1000', '--big-bytes', '209715200'])
 */
import { parseArgs } from 'node:util';
import { startBenchUpstream, type UpstreamStats } from './upstream.js';

/** The first IPC message: where the upstream listens and how to reach it. */
export interface UpstreamReady {
  kind: 'ready';
  url: string;
  caCert: string;
  token: string;
  listBytes: number;
}

/** The reply to a `{ kind: 'stats' }` message. */
export interface UpstreamStatsMessage {
  kind: 'stats';
  stats: UpstreamStats;
}

const { values } = parseArgs({
  options: {
    'list-items': { type: 'string', default: '1000' },
    'big-bytes': { type: 'string', default: String(200 * 1024 * 1024) },
  },
});

const upstream = await startBenchUpstream({ listItems: Number(values['list-items']), bigBytes: Number(values['big-bytes']) });
process.on('message', (message: { kind?: string }) => {
  if (message.kind === 'stats') process.send?.({ kind: 'stats', stats: upstream.stats() } satisfies UpstreamStatsMessage);
});
process.once('disconnect', () => {
  void upstream.close().finally(() => process.exit(0));
});
process.send?.({ kind: 'ready', url: upstream.url, caCert: upstream.caCert, token: upstream.token, listBytes: upstream.listBytes } satisfies UpstreamReady);
