/**
 * The admin HTTP server: liveness and readiness, Prometheus metrics, the built-in token
 * issuer's OIDC discovery document and JWKS (so other tools can verify airlock's tokens), and
 * the approvals API (approvals-api.ts). It never proxies traffic.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../log.js';
import type { Metrics } from './metrics.js';
import { registerApprovalsApi, type ApprovalsApiDeps } from './approvals-api.js';

/** A readiness check: `ok` false makes /readyz answer 503 with the reason. */
export interface ReadinessCheck {
  name: string;
  check(): { ok: boolean; detail?: string };
}

/** What the admin server needs from the built-in issuer. */
export interface PublishedIssuer {
  discoveryDocument(): object;
  jwks(): { keys: unknown[] };
}

export interface AdminServerDeps {
  metrics: Metrics;
  readiness: ReadinessCheck[];
  issuer?: PublishedIssuer;
  /** The approvals API; absent in tools that only need health and metrics. */
  approvals?: ApprovalsApiDeps;
  logger: Logger;
}

/** buildAdminServer returns the (not yet listening) fastify instance with every admin route. */
export function buildAdminServer(deps: AdminServerDeps): FastifyInstance {
  // fastify's own request logging stays off: admin traffic is not evidence, and our logger redacts.
  const app = Fastify({ logger: false });

  app.get('/healthz', async (_req, reply) => reply.type('text/plain').send('ok\n'));

  app.get('/readyz', async (_req, reply) => {
    const checks = deps.readiness.map((c) => ({ name: c.name, ...c.check() }));
    const ready = checks.every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({ ready, checks });
  });

  app.get('/metrics', async (_req, reply) => {
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(body);
  });

  if (deps.issuer) {
    const issuer = deps.issuer;
    app.get('/.well-known/openid-configuration', async (_req, reply) =>
      reply.header('cache-control', 'public, max-age=300').send(issuer.discoveryDocument()),
    );
    app.get('/.well-known/jwks.json', async (_req, reply) =>
      reply.header('cache-control', 'public, max-age=300').type('application/jwk-set+json').send(issuer.jwks()),
    );
  }

  if (deps.approvals) registerApprovalsApi(app, deps.approvals);

  app.setNotFoundHandler(async (req, reply) =>
    reply.code(404).send({ error: 'not found', path: req.url, hint: 'see docs/admin-api.md for the admin routes' }),
  );
  app.setErrorHandler(async (err, _req, reply) => {
    const status = typeof (err as { statusCode?: number }).statusCode === 'number' ? (err as { statusCode: number }).statusCode : 500;
    deps.logger.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'admin request failed');
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : err instanceof Error ? err.message : String(err) });
  });
  return app;
}
