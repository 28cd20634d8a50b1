/**
 * Prometheus metrics for the admin server's /metrics. One registry per airlock process (tests
 * create their own), so nothing leaks between instances.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The ledger facts the metrics read at scrape time. */
export interface LedgerHealthSource {
  health(): { writable: boolean; lastSeq: number; lastCheckpointAt?: string };
}

export interface Metrics {
  registry: Registry;
  requests: Counter<'protocol' | 'decision'>;
  ledgerAppendSeconds: Histogram<never>;
  authFailures: Counter<'reason'>;
  /** Reloads of the policy file: `ok` (read and compiled) or `refused` (the previous policy stayed in force). */
  policyReloads: Counter<'result'>;
  /** Times an exec, attach or port-forward stopped reading its legs because its recording was behind the ledger. */
  streamRecordingHolds: Counter<never>;
  /** Runs of a connection's exec credential plugin to renew airlock's upstream token, by result (`ok`, `failed`). */
  upstreamCredentialRenewals: Counter<'connection' | 'result'>;
  /** watchLedger makes checkpoint age, last sequence and writability scrape-time gauges. */
  watchLedger(ledger: LedgerHealthSource, now?: () => number): void;
}

/** createMetrics builds the registry with process metrics and airlock's own series. */
export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'airlock_' });
  const requests = new Counter({
    name: 'airlock_requests_total',
    help: 'Requests decided by airlock, by protocol and decision (allow, deny, review, error).',
    labelNames: ['protocol', 'decision'] as const,
    registers: [registry],
  });
  const ledgerAppendSeconds = new Histogram({
    name: 'airlock_ledger_append_seconds',
    help: 'Time from append() to the entry being durable.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'airlock_auth_failures_total',
    help: 'Credentials refused, by reason code.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const policyReloads = new Counter({
    name: 'airlock_policy_reloads_total',
    help: 'Reloads of the policy file (SIGHUP or a change on disk), by result: ok (read and compiled), refused (the previous policy stayed in force).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const streamRecordingHolds = new Counter({
    name: 'airlock_stream_recording_holds_total',
    help: 'Times an exec, attach or port-forward stream stopped being read because its recording was too far behind the ledger (8 MiB for the session, 64 MiB for all sessions): the disk is slower than the streams.',
    registers: [registry],
  });
  const upstreamCredentialRenewals = new Counter({
    name: 'airlock_upstream_credential_renewals_total',
    help: "Runs of a connection's exec credential plugin (a kubeconfig's aws eks get-token, gke-gcloud-auth-plugin, kubelogin) to renew airlock's upstream token, by result: ok, failed (the last token stays in use; once it expires the cluster refuses airlock's requests).",
    labelNames: ['connection', 'result'] as const,
    registers: [registry],
  });
  // Both series exist from the start, so an alert on refusals has something to compare with.
  policyReloads.inc({ result: 'ok' }, 0);
  policyReloads.inc({ result: 'refused' }, 0);
  // Scrape-time gauges read the ledger's health through `source`, set by watchLedger.
  let source: LedgerHealthSource | undefined;
  let clock: () => number = Date.now;
  new Gauge({
    name: 'airlock_ledger_checkpoint_age_seconds',
    help: 'Seconds since the last signed checkpoint (NaN before the first).',
    registers: [registry],
    collect() {
      const at = source?.health().lastCheckpointAt;
      this.set(at ? Math.max(0, (clock() - Date.parse(at)) / 1000) : Number.NaN);
    },
  });
  new Gauge({
    name: 'airlock_ledger_last_sequence',
    help: "Sequence number of the last durable entry of this replica's chain.",
    registers: [registry],
    collect() {
      if (source) this.set(source.health().lastSeq);
    },
  });
  new Gauge({
    name: 'airlock_ledger_writable',
    help: '1 when the ledger accepts writes, 0 when it is failing (requests are refused when failing closed).',
    registers: [registry],
    collect() {
      if (source) this.set(source.health().writable ? 1 : 0);
    },
  });

  return {
    registry,
    requests,
    ledgerAppendSeconds,
    authFailures,
    policyReloads,
    streamRecordingHolds,
    upstreamCredentialRenewals,
    watchLedger(ledger, now = Date.now) {
      source = ledger;
      clock = now;
    },
  };
}
