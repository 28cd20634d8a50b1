/**
 * Builders of Kubernetes Secret responses for the masking tests and benchmark, shaped as the
 * apiserver writes them (typed list items carry no kind; watch events do; Tables carry
 * PartialObjectMetadata or full objects per includeObject). Every clear value a builder plants
 * is recorded in a `Planted` set, so a test can search the output for each one.
 *
 * Not used at runtime.
 */
import { LAST_APPLIED_ANNOTATION, PLACEHOLDER_PREFIX } from './placeholder.js';

type Json = Record<string, unknown>;

/** Planted collects the clear values a fixture contains. */
export class Planted {
  readonly values: string[] = [];
  private counter = 0;

  /** next returns a fresh, recognisable clear value and remembers it. */
  next(label: string): string {
    const value = `clear-${label}-${(this.counter++).toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    this.values.push(value);
    return value;
  }

  /** leaks returns each planted value that `output` shows in any form (clear, base64, base64url). */
  leaks(output: string | Buffer): string[] {
    const text = typeof output === 'string' ? output : output.toString('latin1');
    return this.values.filter((value) => formsOf(value).some((form) => text.includes(form)));
  }
}

function formsOf(value: string): string[] {
  const b64 = Buffer.from(value).toString('base64');
  return [value, b64, b64.replace(/=+$/, ''), Buffer.from(value).toString('base64url')];
}

export interface SecretSpec {
  name: string;
  keys?: string[];
  withKind?: boolean;
  lastApplied?: boolean;
  namespace?: string;
}

/** secret builds a Secret whose every data value (and last-applied manifest) is planted. */
export function secret(planted: Planted, spec: SecretSpec): Json {
  const keys = spec.keys ?? ['username', 'password'];
  const data: Record<string, string> = {};
  for (const key of keys) data[key] = Buffer.from(planted.next(`${spec.name}-${key}`)).toString('base64');
  const metadata: Json = {
    name: spec.name,
    namespace: spec.namespace ?? 'default',
    uid: `uid-${spec.name}`,
    resourceVersion: '1001',
    creationTimestamp: '2025-01-01T00:00:00Z',
    labels: { app: 'demo' },
    managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:data': Object.fromEntries(keys.map((k) => [`f:${k}`, {}])) } }],
  };
  if (spec.lastApplied) {
    const manifest = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: spec.name, namespace: spec.namespace ?? 'default' },
      data: Object.fromEntries(keys.map((k) => [k, Buffer.from(planted.next(`${spec.name}-applied-${k}`)).toString('base64')])),
      stringData: { extra: planted.next(`${spec.name}-applied-stringData`) },
      type: 'Opaque',
    };
    metadata.annotations = { [LAST_APPLIED_ANNOTATION]: JSON.stringify(manifest) + '\n', note: 'kept' };
  }
  const body: Json = { metadata, data, type: 'Opaque' };
  return spec.withKind === false ? body : { kind: 'Secret', apiVersion: 'v1', ...body };
}

/** secretList builds a SecretList page; items carry no kind, as the apiserver writes them. */
export function secretList(planted: Planted, count: number, options: { continueToken?: string; lastApplied?: boolean } = {}): Json {
  const items = Array.from({ length: count }, (_, i) =>
    secret(planted, { name: `s${i}`, withKind: false, lastApplied: options.lastApplied ?? i % 2 === 1 }),
  );
  const metadata: Json = { resourceVersion: '2002' };
  if (options.continueToken) {
    metadata.continue = options.continueToken;
    metadata.remainingItemCount = 7;
  }
  return { kind: 'SecretList', apiVersion: 'v1', metadata, items };
}

/** partialObjectMetadata builds the metadata-only form of a Secret (annotations included). */
export function partialObjectMetadata(planted: Planted, name: string): Json {
  const full = secret(planted, { name, lastApplied: true });
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: full.metadata };
}

/** table builds a Secret Table with rows per includeObject (None, Metadata or Object). */
export function table(planted: Planted, count: number, includeObject: 'None' | 'Metadata' | 'Object'): Json {
  const rows = Array.from({ length: count }, (_, i) => {
    const name = `t${i}`;
    const cells = [name, 'Opaque', 2, '5d'];
    if (includeObject === 'None') return { cells };
    const object = includeObject === 'Object' ? secret(planted, { name, lastApplied: true }) : partialObjectMetadata(planted, name);
    return { cells, object };
  });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: '3003' },
    columnDefinitions: ['Name', 'Type', 'Data', 'Age'].map((name) => ({ name, type: 'string', format: '', description: '', priority: 0 })),
    rows,
  };
}

/** watchStream builds newline-framed watch events: watch-list initial events, a bookmark, updates and an ERROR. */
export function watchStream(planted: Planted): string {
  const events: Json[] = [
    { type: 'ADDED', object: secret(planted, { name: 'w0' }) },
    { type: 'ADDED', object: secret(planted, { name: 'w1', lastApplied: true }) },
    {
      type: 'BOOKMARK',
      object: { kind: 'Secret', apiVersion: 'v1', metadata: { resourceVersion: '4004', annotations: { 'k8s.io/initial-events-end': 'true' } } },
    },
    { type: 'MODIFIED', object: secret(planted, { name: 'w0', keys: ['password', 'token'] }) },
    { type: 'DELETED', object: secret(planted, { name: 'w1' }) },
    { type: 'ERROR', object: status(410, 'Expired', 'too old resource version: 1 (4004)') },
  ];
  return events.map((e) => JSON.stringify(e) + '\n').join('');
}

/** status builds a metav1.Status error. */
export function status(code: number, reason: string, message: string): Json {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** decodePlaceholder returns the marker a base64 data value decodes to, or undefined. */
export function decodePlaceholder(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = Buffer.from(value, 'base64').toString('latin1');
  return Buffer.from(text, 'latin1').toString('base64') === value && text.startsWith(PLACEHOLDER_PREFIX) ? text : undefined;
}
