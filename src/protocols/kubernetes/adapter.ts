/**
 * The Kubernetes protocol adapter: HTTP request → Exchange (connection, credential, request
 * info, policy request, object), and Refusal → a Kubernetes `Status` that kubectl prints as
 * `Error from server (Forbidden): …`. It decides nothing; the pipeline does.
 */
import type { ProtocolAdapter, ResponseRecorder } from '../../gateway/adapter.js';
import { refusal, type Refusal } from '../../gateway/exchange.js';
import { isAirlockError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Placeholder } from '../../masking/index.js';
import { splitConnectionPrefix } from './connection-prefix.js';
import { forwardKubernetes } from './forward.js';
import type { KubeConnection, KubeExchange } from './kube-exchange.js';
import { checkPath } from './path-safety.js';
import { toPolicyRequest } from './policy-request.js';
import { maskCommand, recordedTarget } from './recorded-command.js';
import { hasBody, readBody } from './request-body.js';
import { resolveRequestInfo } from './request-info.js';
import { interpretBody } from './request-object.js';
import { requestDigest, reviewPreview, reviewSubject } from './review-subject.js';
import { statusFailure, statusResponse, type StatusReason } from './status.js';
import type { Detector } from '../../masking/detectors/detector.js';
import { parseSubprotocolHeader, splitBearerSubprotocol } from './streams/channel/index.js';
import { forwardStream } from './streams/forward-stream.js';

export interface KubernetesAdapterDeps {
  connections: ReadonlyMap<string, KubeConnection>;
  placeholder: Placeholder;
  policyReadsObject: () => boolean;
  bodyLimit: number;
  requestTimeoutMs: number;
  /** Detectors that mask secrets in terminal output (exec, attach). */
  streamDetectors: Detector[];
  /** Called each time a stream stops being read because its recording is behind the ledger. */
  onRecordingHeld?: () => void;
  /** Show approvers the cluster's dry run of a write waiting for approval. */
  preview?: boolean;
  logger: Logger;
}

export function createKubernetesAdapter(deps: KubernetesAdapterDeps): ProtocolAdapter<KubeExchange> {
  return {
    protocol: 'kubernetes',

    async admit(x) {
      const { req } = x;
      x.facts.method = req.method;
      x.facts.userAgent = req.headers['user-agent'];
      x.facts.remoteAddress = req.socket.remoteAddress;
      const split = splitConnectionPrefix(req.url ?? '/');
      if (!split.ok) return refusal(404, 'bad-request', split.reason);
      // An exec's command line may carry a secret: the ledger gets it masked (recorded-command.ts).
      x.facts.target = recordedTarget(split.upstreamTarget, deps.streamDetectors);
      const conn = deps.connections.get(split.connection);
      if (!conn) {
        const known = [...deps.connections.keys()].join(', ') || 'none';
        return refusal(404, 'bad-request', `airlock has no connection named "${split.connection}" (known: ${known})`);
      }
      x.connection = split.connection;
      x.conn = conn;
      const path = checkPath(split.upstreamTarget);
      if (!path.ok) return refusal(400, 'bad-request', `airlock refused an ambiguous request path: ${path.reason}`);
      x.target = split.upstreamTarget;
      // Impersonate-* would borrow airlock's own impersonation rights; the caller is already themselves.
      const impersonation = Object.keys(req.headers).filter((h) => h.toLowerCase().startsWith('impersonate-'));
      if (impersonation.length > 0) {
        return refusal(403, 'forbidden', `airlock does not accept ${impersonation.join(', ')}: it already acts as you (drop --as/--as-group)`);
      }
      const auth = req.headers.authorization;
      if (auth !== undefined) {
        const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
        if (!m) return refusal(401, 'unauthenticated', 'airlock accepts only `Authorization: Bearer <token>` credentials');
        x.credential = m[1];
      } else if (x.upgrade && req.headers['sec-websocket-protocol'] !== undefined) {
        // Browsers cannot set Authorization on a WebSocket: the apiserver also reads the token
        // from a `base64url.bearer.authorization.k8s.io.` subprotocol. It never goes upstream.
        try {
          const token = splitBearerSubprotocol(parseSubprotocolHeader(req.headers['sec-websocket-protocol'])).bearerToken;
          if (token) x.credential = token;
        } catch (err) {
          return refusal(401, 'unauthenticated', isAirlockError(err) ? err.message : 'the bearer token subprotocol is malformed');
        }
      }
      return undefined;
    },

    async interpret(x) {
      const { req } = x;
      if (!x.target || !x.connection || !x.conn || !x.identity) throw new Error('interpret needs an admitted, authenticated request');
      try {
        x.impersonation = x.conn.impersonate(x.identity);
      } catch (err) {
        if (isAirlockError(err)) return refusal(403, 'forbidden', err.message);
        throw err;
      }
      try {
        x.info = resolveRequestInfo(req.method ?? 'GET', x.target);
      } catch (err) {
        if (isAirlockError(err)) return refusal(400, 'bad-request', err.message);
        throw err;
      }
      const query = x.target.includes('?') ? x.target.slice(x.target.indexOf('?') + 1) : '';
      const withBody = hasBody(req);
      x.action = toPolicyRequest(x.info, { connection: x.connection, method: req.method ?? 'GET', query, hasBody: withBody });
      // Policy reads the command as sent; the ledger and approvers see it masked.
      const maskedCommand = x.action.command ? maskCommand(x.action.command, deps.streamDetectors) : undefined;
      if (maskedCommand) x.recordedAction = { ...x.action, command: maskedCommand };
      if (withBody && !x.upgrade) {
        const read = await readBody(req, x.conn.config.maxRequestBody);
        if (!read.ok) {
          return read.reason === 'too-large'
            ? refusal(413, 'too-large', `the request body is larger than ${x.conn.config.maxRequestBody} bytes, the limit of connection "${x.connection}"`)
            : refusal(400, 'bad-request', 'the client aborted the request body');
        }
        x.body = read.body;
        return interpretBody(x, deps);
      }
      return undefined;
    },

    async forward(x, record: ResponseRecorder) {
      // Every answer names its ledger entry, also those airlock writes itself (cluster down,
      // upgrades); the apiserver echoes the same id on the answers it writes.
      x.res.setHeader('audit-id', x.id);
      if (x.upgrade) return forwardStream(x, record, { detectors: deps.streamDetectors, ...(deps.onRecordingHeld ? { onRecordingHeld: deps.onRecordingHeld } : {}) });
      await forwardKubernetes(x, record, {
        placeholder: deps.placeholder,
        bodyLimit: deps.bodyLimit,
        requestTimeoutMs: deps.requestTimeoutMs,
        textDetectors: deps.streamDetectors,
        logger: deps.logger,
      });
    },

    describeForReview(x) {
      return {
        digest: requestDigest(x),
        subject: reviewSubject(x),
        ...(x.info?.namespace ? { scope: x.info.namespace } : {}),
        ...(deps.preview ? { preview: () => reviewPreview(x, { placeholder: deps.placeholder, requestTimeoutMs: deps.requestTimeoutMs }) } : {}),
      };
    },

    async refuse(x, r: Refusal) {
      const { res } = x;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const upstreamBody = r.details?.upstreamBody;
      if (Buffer.isBuffer(upstreamBody)) {
        const contentType = typeof r.details?.upstreamContentType === 'string' ? r.details.upstreamContentType : 'application/json';
        res.writeHead(r.status, { 'content-type': contentType, 'content-length': String(upstreamBody.length), 'audit-id': x.id });
        res.end(upstreamBody);
        return;
      }
      const info = x.info;
      const details =
        info?.isResourceRequest && (r.reason === 'policy-denied' || r.reason.startsWith('approval-') || r.reason === 'forbidden')
          ? { name: info.name || undefined, group: info.apiGroup, kind: info.resource }
          : undefined;
      const status = statusResponse(
        statusFailure({
          code: r.status,
          reason: statusReason(r.status),
          message: r.message,
          details: r.retryAfterSeconds !== undefined ? { ...details, retryAfterSeconds: r.retryAfterSeconds } : details,
        }),
      );
      res.writeHead(status.statusCode, { ...status.headers, 'audit-id': x.id });
      res.end(status.body);
    },
  };
}

function statusReason(code: number): StatusReason {
  switch (code) {
    case 400:
      return 'BadRequest';
    case 413:
      return 'RequestEntityTooLarge';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 406:
      return 'NotAcceptable';
    case 415:
      return 'UnsupportedMediaType';
    case 429:
      return 'TooManyRequests';
    case 503:
      return 'ServiceUnavailable';
    case 504:
      return 'Timeout';
    default:
      return 'InternalError';
  }
}
