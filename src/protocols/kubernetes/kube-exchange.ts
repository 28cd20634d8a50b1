/**
 * KubeExchange is the Kubernetes adapter's view of one request: the generic Exchange plus
 * the HTTP request and response, the routed connection, the request info and the body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { KubernetesConnectionConfig } from '../../config/kubernetes-schema.js';
import type { Exchange } from '../../gateway/exchange.js';
import type { Identity } from '../../identity/identity.js';
import type { RequestInfo } from './request-info.js';

/** The parts of an opened upstream the adapter uses. */
export interface UpstreamTarget {
  name: string;
  /** The API server URL, possibly with a path prefix. */
  baseUrl: URL;
  dispatcher: Dispatcher;
  /** `Bearer …` for token credentials; undefined with client certificates. */
  authorization(): string | undefined;
  /** renew: the cluster answered 401 to airlock's own credential; true when a renewed one may be tried. */
  renew(): Promise<boolean>;
  /** TLS settings for a WebSocket leg to the API server. */
  tlsOptions(): { rejectUnauthorized: boolean; ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string };
}

/** A configured Kubernetes connection, ready to forward to. */
export interface KubeConnection {
  config: KubernetesConnectionConfig;
  upstream: UpstreamTarget;
  /** Impersonate-* headers for the caller (none in `fixed` mode). */
  impersonate(identity: Identity): Record<string, string | string[]>;
}

export interface KubeExchange extends Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The request target after `/k8s/<connection>` (path and query, raw). */
  target?: string;
  conn?: KubeConnection;
  info?: RequestInfo;
  /** The request body as received (forwarded unchanged). */
  body?: Buffer;
  /** Aborted when airlock shuts down past its drain deadline: streams end then. */
  shutdown?: AbortSignal;
  /** The body as parsed (JSON or YAML), when airlock could read it. */
  parsedBody?: unknown;
  /** The Impersonate-* headers for the caller, computed once identity is known. */
  impersonation?: Record<string, string | string[]>;
  /** True when the client asked for a protocol upgrade (exec, attach, port-forward). */
  upgrade?: boolean;
  /** The raw connection and the bytes read past the headers, for an upgrade. */
  upgradeSocket?: Duplex;
  upgradeHead?: Buffer;
}
