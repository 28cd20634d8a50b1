/**
 * The airlock process: opens the ledger, loads the policy (recording which policy is in
 * force), opens the built-in issuer and the authenticator, and starts the admin server. The
 * protocol listeners hang off this runtime. `close()` records the stop and drains everything.
 */
import type { AddressInfo } from 'node:net';
import { parseHostPort, type AirlockConfig } from '../config/index.js';
import { createAuthenticator, openBuiltinIssuer, type Authenticator, type BuiltinIssuer } from '../identity/index.js';
import { openLedger, openLedgerReader, type Ledger, type LedgerEntry } from '../ledger/index.js';
import { Approvals } from '../review/approvals.js';
import { followReplicas } from './replicas.js';
import { jcs, sha256Hex } from '../ledger/canonical.js';
import { maskingConfiguration } from '../masking/masking-config.js';
import { createNotifiers } from '../review/notify/index.js';
import { readerOptionsFromConfig } from './ledger-options.js';
import { compilePolicy, defaultPolicySource, loadPolicyFile, type CompiledPolicy } from '../policy/index.js';
import { buildAdminServer } from '../server/admin-server.js';
import { createMetrics, type Metrics } from '../server/metrics.js';
import { createLogger, type Logger } from '../log.js';
import { ledgerOptionsFromConfig } from './ledger-options.js';
import type { KubernetesConnectionConfig } from '../config/kubernetes-schema.js';
import { startKubernetesGateway, type KubernetesGateway } from './kubernetes.js';
import { createPolicyReloader, type PolicyReloadResult } from './policy-reload.js';
import { listenFailed } from '../server/listen-error.js';

export interface AirlockRuntime {
  config: AirlockConfig;
  logger: Logger;
  ledger: Ledger;
  metrics: Metrics;
  authenticator: Authenticator;
  issuer?: BuiltinIssuer;
  /** The policy in force (replaced on reload). */
  policy(): CompiledPolicy;
  /** The admin server's bound URL (the real port when the config asked for port 0). */
  adminUrl: string;
  /** The Kubernetes gateway, when at least one Kubernetes connection is configured. */
  kubernetes?: KubernetesGateway;
  /** The approval book (review decisions, votes, grants). */
  approvals: Approvals;
  /**
   * reload re-reads the policy file (as SIGHUP and a change of the file do): a policy that
   * compiles is recorded and decides the next request; one that does not is refused, recorded,
   * and the policy in force stays.
   */
  reload(): Promise<PolicyReloadResult>;
  close(): Promise<void>;
}

export const embeddedPolicyName = '(embedded default policy)';

/** loadConfiguredPolicy compiles the configured policy file, or the embedded default policy. */
export async function loadConfiguredPolicy(config: AirlockConfig): Promise<CompiledPolicy> {
  return config.policy ? loadPolicyFile(config.policy) : compilePolicy(defaultPolicySource, { file: embeddedPolicyName });
}

/**
 * startAirlock brings the process up. It fails (and leaves nothing running) when the ledger,
 * the policy, the issuer key or the admin listener cannot be opened: airlock never runs
 * without a place to record or a policy to decide with.
 */
export interface StartOptions {
  logger?: Logger;
  /** Connections added at run time (the quick start's sandbox), besides the configured ones. */
  extraConnections?: KubernetesConnectionConfig[];
}

export async function startAirlock(config: AirlockConfig, options: StartOptions = {}): Promise<AirlockRuntime> {
  // AIRLOCK_LOG_LEVEL overrides the configured level (handy for a one-off debug run).
  const logger = options.logger ?? createLogger({ level: process.env.AIRLOCK_LOG_LEVEL ?? config.log.level });
  const metrics = createMetrics();
  // The policy is compiled before anything is opened: a bad policy is a startup error.
  let policy = await loadConfiguredPolicy(config);
  for (const warning of policy.warnings) logger.warn({ file: policy.file }, `policy warning: ${warning}`);
  const ledger = await openLedger({
    ...ledgerOptionsFromConfig(config),
    logger: logger.child({ component: 'ledger' }),
    onAppend: (o) => metrics.ledgerAppendSeconds.observe(o.seconds),
  });
  const cleanups: (() => Promise<unknown>)[] = [() => ledger.close()];
  try {
    metrics.watchLedger(ledger);
    const issuer = config.identity.builtin.enabled
      ? await openBuiltinIssuer({
          dataDir: config.data,
          issuer: config.admin.url,
          audience: config.identity.builtin.audience,
          maxTtlSeconds: Math.floor(config.identity.builtin.maxTtl / 1000),
        })
      : undefined;
    const authenticator = createAuthenticator({
      issuers: config.identity.issuers.map((i) => ({ ...i, clockSkewSeconds: Math.round(i.clockSkew / 1000) })),
      builtin: issuer,
    });
    await recordPolicy(ledger, policy, 'start');
    await recordMasking(ledger, [...config.connections, ...(options.extraConnections ?? [])], 'start');

    // Approvals live in this process and in the ledger: the book is rebuilt from its entries.
    let adminUrl = config.admin.url;
    const approvals = new Approvals({
      ledger,
      chain: config.ledger.chain,
      config: config.review,
      notifiers: createNotifiers(config.review.notify),
      get adminUrl() {
        return adminUrl;
      },
      logger: logger.child({ component: 'review' }),
    });
    cleanups.unshift(async () => approvals.close());
    approvals.restore(await readApprovalEntries(config));
    // Replicas on one PostgreSQL ledger follow each other's approvals.
    const stopFollowing = await followReplicas(config, approvals, logger);
    if (stopFollowing) cleanups.unshift(stopFollowing);

    const admin = buildAdminServer({
      metrics,
      logger,
      issuer,
      approvals: { approvals, authenticate: (token) => authenticator.authenticate(token) },
      readiness: [
        {
          name: 'ledger',
          check: () => {
            const h = ledger.health();
            if (h.writable) return { ok: true };
            return h.failOpen ? { ok: true, detail: `failing open: ${h.lastError ?? 'ledger cannot write'}` } : { ok: false, detail: h.lastError ?? 'ledger cannot write' };
          },
        },
      ],
    });
    const address = parseHostPort(config.admin.listen);
    if ('error' in address) throw new Error(`admin.listen: ${address.error}`);
    const port = address.port;
    await admin.listen({ host: address.host, port }).catch((err: unknown) => {
      throw listenFailed(err, 'admin server', config.admin.listen, '--admin or admin.listen');
    });
    cleanups.unshift(() => admin.close());
    const bound = admin.server.address() as AddressInfo;
    adminUrl = port === 0 ? `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}` : config.admin.url;

    const kubeConnections = [...config.connections, ...(options.extraConnections ?? [])];
    const kubernetes =
      kubeConnections.length > 0
        ? await startKubernetesGateway({ config, connections: kubeConnections, ledger, policy: () => policy, authenticator, metrics, logger, approvals })
        : undefined;
    if (kubernetes) cleanups.unshift(() => kubernetes.close());

    await ledger.append({
      type: 'system',
      data: { event: 'start', version: process.env.npm_package_version ?? '0.1.0', admin: adminUrl, listen: kubernetes?.url, connections: kubernetes?.connections ?? [] },
    });
    logger.info({ admin: adminUrl, chain: ledger.chain }, 'airlock started');

    const reloader = createPolicyReloader({
      file: config.policy,
      current: () => policy,
      install: (next) => {
        policy = next;
      },
      record: (next) => Promise.all([recordPolicy(ledger, next, 'reload'), recordMasking(ledger, kubeConnections, 'reload')]),
      ledger,
      metrics,
      logger: logger.child({ component: 'policy' }),
    });

    let closed = false;
    return {
      config,
      logger,
      ledger,
      metrics,
      authenticator,
      issuer,
      policy: () => policy,
      adminUrl,
      approvals,
      ...(kubernetes ? { kubernetes } : {}),
      reload: () => reloader.reload(),
      async close() {
        if (closed) return;
        closed = true;
        // No reload after the stop is recorded: the watcher goes first, a reload under way finishes.
        await reloader.close();
        // Held requests are answered first (429: retry), so the drain does not wait on approvers;
        // then the listener drains; the stop is recorded after the last drained request.
        approvals.interrupt();
        const closeLedger = cleanups.pop()!;
        for (const cleanup of cleanups) await cleanup();
        await ledger.append({ type: 'system', data: { event: 'stop' } }).catch((err: unknown) => logger.warn({ err }, 'could not record the stop'));
        await closeLedger();
      },
    };
  } catch (err) {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    throw err;
  }
}

/** recordMasking writes the masking configuration now in force into the ledger, with its hash. */
export async function recordMasking(ledger: Ledger, connections: KubernetesConnectionConfig[], reason: 'start' | 'reload'): Promise<void> {
  const configuration = maskingConfiguration(connections);
  await ledger.append({ type: 'masking.loaded', data: { reason, hash: sha256Hex(jcs(configuration)), configuration } });
}

/** readApprovalEntries reads the ledger's approval entries, oldest first, to rebuild the book. */
async function readApprovalEntries(config: AirlockConfig): Promise<LedgerEntry[]> {
  const reader = await openLedgerReader(readerOptionsFromConfig(config));
  try {
    const out: LedgerEntry[] = [];
    const types = ['approval.requested', 'approval.approved', 'approval.denied', 'approval.used', 'approval.expired', 'approval.revoked'];
    for await (const entry of reader.entries({ types })) out.push(entry);
    // Several chains (replicas) interleave: the book is rebuilt in the order things happened.
    return out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.chain === b.chain ? a.seq - b.seq : 0));
  } finally {
    await reader.close();
  }
}

/** recordPolicy writes the policy now in force into the ledger, so exports can show it. */
export async function recordPolicy(ledger: Ledger, policy: CompiledPolicy, reason: 'start' | 'reload'): Promise<void> {
  await ledger.append({
    type: 'policy.loaded',
    data: { reason, hash: policy.policyHash, file: policy.file ?? embeddedPolicyName, rules: policy.rules.length, default: policy.default, source: policy.source },
  });
}
