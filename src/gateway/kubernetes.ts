/**
 * The Kubernetes gateway: opens each configured cluster connection, builds the pipeline with
 * the Kubernetes adapter, and listens for kubectl and other clients over HTTPS.
 */
import { readFileSync } from 'node:fs';
import type { AirlockConfig } from '../config/index.js';
import type { KubernetesConnectionConfig } from '../config/kubernetes-schema.js';
import { parseHostPort } from '../config/index.js';
import { isAirlockError } from '../errors.js';
import type { Authenticator } from '../identity/index.js';
import type { Identity } from '../identity/identity.js';
import { uuidV7 } from '../ledger/index.js';
import type { Ledger } from '../ledger/types.js';
import type { Logger } from '../log.js';
import { createPlaceholder } from '../masking/index.js';
import { DEFAULT_DETECTORS, selectDetectors } from '../masking/detectors/registry.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { createKubernetesAdapter } from '../protocols/kubernetes/adapter.js';
import type { KubeConnection, KubeExchange } from '../protocols/kubernetes/kube-exchange.js';
import { startKubernetesListener, type KubernetesListener } from '../protocols/kubernetes/listener.js';
import { createTokenReviewer, impersonationHeaders, openUpstream, type Upstream } from '../protocols/kubernetes/upstream/index.js';
import type { Metrics } from '../server/metrics.js';
import { ensureQuickstartTls, loadGatewayTls } from '../server/tls-certificates.js';
import type { Exchange } from './exchange.js';
import { loadMaskKey } from './mask-key.js';
import { buildPipeline } from './pipeline.js';
import type { Approvals } from '../review/approvals.js';
import { listenFailed } from '../server/listen-error.js';

export interface KubernetesGatewayDeps {
  config: AirlockConfig;
  connections: KubernetesConnectionConfig[];
  ledger: Ledger;
  policy: () => CompiledPolicy;
  authenticator: Authenticator;
  metrics: Metrics;
  logger: Logger;
  /** Where `review` decisions wait for approvers. */
  approvals: Approvals;
}

export interface KubernetesGateway {
  url: string;
  /** The CA file clients should trust (quick start), when airlock generated its certificate. */
  caFile?: string;
  connections: string[];
  close(): Promise<void>;
}

/** Timeout for ordinary (not long-running) upstream requests. */
const requestTimeoutMs = 60_000;

export async function startKubernetesGateway(deps: KubernetesGatewayDeps): Promise<KubernetesGateway> {
  const { config, logger } = deps;
  const address = parseHostPort(config.listen);
  if ('error' in address) throw new Error(`listen: ${address.error}`);
  const upstreams: Upstream[] = [];
  const connections = new Map<string, KubeConnection & { review?: (token: string) => Promise<Identity> }>();
  try {
    for (const c of deps.connections) {
      const upstream = await openUpstream(c, {
        logger: logger.child({ connection: c.name }),
        onCredentialRenewal: (ok) => deps.metrics.upstreamCredentialRenewals.inc({ connection: c.name, result: ok ? 'ok' : 'failed' }),
      });
      upstreams.push(upstream);
      const reviewer = c.serviceAccountTokens ? createTokenReviewer(upstream) : undefined;
      connections.set(c.name, {
        config: c,
        upstream,
        impersonate: (identity) => impersonationHeaders(identity, c.identity, { connection: c.name }),
        ...(reviewer ? { review: (token: string) => reviewer.review(token) } : {}),
      });
      logger.info({ connection: c.name, upstream: upstream.describe() }, 'kubernetes connection ready');
    }

    const tls = config.tls ? { ...loadGatewayTls(config.tls), caFile: config.tls.ca } : await quickstartTls(config.data, address.host);
    const placeholder = createPlaceholder(loadMaskKey(config.data));
    const adapter = createKubernetesAdapter({
      connections,
      placeholder,
      policyReadsObject: () => readsObject(deps.policy()),
      bodyLimit: config.ledger.bodyLimit,
      requestTimeoutMs,
      preview: config.review.preview,
      streamDetectors: selectDetectors(DEFAULT_DETECTORS),
      onRecordingHeld: () => deps.metrics.streamRecordingHolds.inc(),
      logger,
    });
    const handle = buildPipeline<KubeExchange>(adapter, {
      ledger: deps.ledger,
      policy: deps.policy,
      logger,
      authenticate: async (token: string, x: Exchange) => {
        try {
          return await deps.authenticator.authenticate(token);
        } catch (err) {
          // In-cluster agents present the cluster's own service-account tokens: ask that cluster.
          const review = x.connection ? connections.get(x.connection)?.review : undefined;
          if (review && isAirlockError(err) && (err.code === 'AIRLOCK_AUTH_UNKNOWN_ISSUER' || err.code === 'AIRLOCK_AUTH_MALFORMED')) {
            return review(token);
          }
          throw err;
        }
      },
      review: { approvals: deps.approvals, holdMs: config.review.holdTimeout, retryAfterMs: config.review.retryAfter },
      onAuthFailure: (code) => deps.metrics.authFailures.inc({ reason: code }),
      onOutcome: (x, outcome) => {
        const decision = outcome === 'forwarded' ? (x.decision?.effect ?? 'allow') : outcome.reason === 'policy-denied' ? 'deny' : outcome.reason.startsWith('approval-') ? 'review' : 'error';
        deps.metrics.requests.inc({ protocol: 'kubernetes', decision });
      },
    });
    const listener: KubernetesListener = await startKubernetesListener({
      host: address.host,
      port: address.port,
      cert: tls.cert,
      key: tls.key,
      handle,
      newId: uuidV7,
      logger,
    }).catch((err: unknown) => {
      throw listenFailed(err, 'Kubernetes gateway', config.listen, '--listen or listen');
    });
    return {
      url: listener.url,
      ...(tls.caFile ? { caFile: tls.caFile } : {}),
      connections: [...connections.keys()],
      async close() {
        await listener.close(config.shutdownTimeout);
        for (const u of upstreams) await u.close();
      },
    };
  } catch (err) {
    for (const u of upstreams) await u.close().catch(() => undefined);
    throw err;
  }
}

async function quickstartTls(dataDir: string, host: string) {
  const hosts = [...new Set([host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host, 'localhost', '127.0.0.1'])];
  const files = await ensureQuickstartTls(dataDir, hosts);
  return { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile), caFile: files.caFile };
}

const readsObjectCache = new WeakMap<CompiledPolicy, boolean>();

/**
 * readsObject: some rule mentions `object`, so writes must be resolved to the object they
 * produce. Asked on every write, answered once per compiled policy.
 */
function readsObject(policy: CompiledPolicy): boolean {
  let answer = readsObjectCache.get(policy);
  if (answer === undefined) {
    answer = policy.rules.some((r) => /\bobject\b/.test(r.match));
    readsObjectCache.set(policy, answer);
  }
  return answer;
}
