/**
 * The objects the benchmark's upstream serves, built once as the bytes kube-apiserver would
 * write: a small ConfigMap (the GET workload), a SecretList of N Secrets (the LIST workload),
 * and, for the large-list workload, a SecretList of a given size generated on demand so that
 * neither the upstream nor the benchmark ever holds it.
 *
 * Every clear Secret value starts with `benchclear-`, so a client can tell a masked answer
 * from a clear one by looking for CLEAR_NEEDLE (the base64 of that prefix).
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CLEAR_NEEDLE, secretListStream, type Mix } from '../masking/generate.js';

export { CLEAR_NEEDLE, type Mix };

/** The namespace every served object lives in. */
export const NAMESPACE = 'bench';
/** The name of the ConfigMap of the GET workload. */
export const CONFIGMAP_NAME = 'app-settings';

/** Paths the upstream serves (the same on every route: direct, kubectl proxy, airlock). */
export const paths = {
  configMap: `/api/v1/namespaces/${NAMESPACE}/configmaps/${CONFIGMAP_NAME}`,
  secretList: `/api/v1/namespaces/${NAMESPACE}/secrets`,
  /** `?mix=cluster|credentials&bytes=N` choose the generated list. */
  bigSecretList: `/api/v1/namespaces/${NAMESPACE}-large/secrets`,
} as const;

/** configMapJson is a ~1 KiB ConfigMap, the size of a typical application setting object. */
export function configMapJson(): Buffer {
  return Buffer.from(
    JSON.stringify({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: {
        name: CONFIGMAP_NAME,
        namespace: NAMESPACE,
        uid: '0d7c6b1e-3f0a-4a53-9a0e-8d6f3c2b1a00',
        resourceVersion: '481516',
        creationTimestamp: '2025-01-01T00:00:00Z',
        labels: { app: 'payments', tier: 'backend' },
        managedFields: [
          { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', time: '2025-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:LOG_LEVEL': {}, 'f:FEATURES': {}, 'f:REGION': {} } } },
        ],
      },
      data: {
        LOG_LEVEL: 'info',
        REGION: 'eu-west-1',
        FEATURES: 'checkout-v2,instant-refunds,fraud-score,ledger-export,multi-currency',
        'application.properties': 'server.port=8080\nmanagement.port=8081\nspring.jpa.open-in-view=false\ncache.ttl=300\n',
      },
    }),
  );
}

function clear(bytes: number): string {
  return Buffer.from(`benchclear-${randomBytes(bytes).toString('hex')}`).toString('base64');
}

/** secret is one Secret of a list: credentials, every fourth a TLS pair, odd ones applied with kubectl. */
function secret(i: number): Record<string, unknown> {
  const name = `service-credentials-${i}`;
  const data: Record<string, string> = { username: clear(6), password: clear(16) };
  if (i % 4 === 0) {
    data['tls.crt'] = clear(600);
    data['tls.key'] = clear(400);
  }
  const metadata: Record<string, unknown> = {
    name,
    namespace: NAMESPACE,
    uid: `6b1e2c3a-${i.toString(16).padStart(4, '0')}-4d5e-8f90-123456789abc`,
    resourceVersion: String(200000 + i),
    creationTimestamp: '2025-01-01T00:00:00Z',
    labels: { app: 'payments', tier: 'backend' },
    managedFields: [
      { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', time: '2025-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': Object.fromEntries(Object.keys(data).map((k) => [`f:${k}`, {}])) } },
    ],
  };
  if (i % 2 === 1) {
    // What `kubectl apply` leaves behind: the whole Secret again, values included.
    const manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NAMESPACE }, data, type: 'Opaque' };
    metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(manifest) + '\n' };
  }
  return { metadata, data, type: i % 4 === 0 ? 'kubernetes.io/tls' : 'Opaque' };
}

/** secretListJson is `GET /api/v1/namespaces/bench/secrets` with `items` Secrets. */
export function secretListJson(items: number): Buffer {
  const list = {
    kind: 'SecretList',
    apiVersion: 'v1',
    metadata: { resourceVersion: String(200000 + items) },
    items: Array.from({ length: items }, (_, i) => secret(i)),
  };
  return Buffer.from(JSON.stringify(list));
}

/** bigSecretListStream is a SecretList of about `bytes` bytes, produced in 64 KiB chunks on demand. */
export function bigSecretListStream(bytes: number, mix: Mix): Readable {
  return secretListStream(bytes, mix);
}
