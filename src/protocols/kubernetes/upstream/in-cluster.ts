/**
 * The pod's own service account, as client-go's `rest.InClusterConfig` finds it: the API
 * server at `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`, the CA and the
 * projected token mounted at /var/run/secrets/kubernetes.io/serviceaccount. The token file
 * rotates (the kubelet refreshes it), so it is named here and re-read by token-source.ts;
 * the CA is read once, as client-go does.
 *
 * The environment and the mount root are injectable, so tests run it from a temp dir.
 * Reads files; opens no socket.
 */
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import { parseServerUrl, readMaterial, upstreamError, type UpstreamTarget } from './target.js';

/** The directory where Kubernetes mounts a pod's service-account token and CA. */
export const serviceAccountRoot = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface InClusterOptions {
  connection: string;
  /** Where KUBERNETES_SERVICE_HOST/PORT are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The mount directory holding `token` and `ca.crt` (default serviceAccountRoot). */
  root?: string;
}

/**
 * inClusterTarget returns the in-cluster API server, CA and token file; it throws
 * AIRLOCK_UPSTREAM_CONFIG when airlock is not running in a pod (no service variables) or the
 * mounted CA is missing (a missing token fails when upstream.ts opens the token file).
 */
export async function inClusterTarget(options: InClusterOptions): Promise<UpstreamTarget> {
  const { connection } = options;
  const env = options.env ?? process.env;
  const root = options.root ?? serviceAccountRoot;
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '';
  if (host === '' || port === '') {
    throw upstreamError(
      connection,
      'inCluster is set but KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not (airlock is not running in a pod); use `url` with a token file, or `kubeconfig`',
    );
  }
  if (!/^\d{1,5}$/.test(port)) throw upstreamError(connection, `KUBERNETES_SERVICE_PORT "${port}" is not a port number`);
  // As net.JoinHostPort: an IPv6 service address (dual-stack clusters) goes in brackets.
  const authority = isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
  const server = parseServerUrl(connection, `https://${authority}`, 'in-cluster service (KUBERNETES_SERVICE_HOST/PORT)');
  const ca = await readMaterial(connection, join(root, 'ca.crt'), 'in-cluster CA (ca.crt)');
  return {
    server,
    ca,
    insecure: false,
    token: { kind: 'file', path: join(root, 'token') },
    origin: `in-cluster service account (${root})`,
  };
}
