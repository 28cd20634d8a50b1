/**
 * The benchmark's request mix: deterministic (seeded), shaped like gateway traffic — mostly
 * Kubernetes reads, some writes with bodies, a few exec sessions and deletes, and PostgreSQL
 * statements — from agents and people in different groups.
 */
import type { PolicyIdentity, PolicyInput } from '../../src/policy/evaluate.js';
import type { PolicyRequest } from '../../src/policy/request.js';

/** mulberry32: a tiny seeded PRNG, so every run decides the same requests. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const identities: PolicyIdentity[] = [
  { subject: 'agent:deploy-bot', groups: ['agents'], issuer: 'https://idp.example', kind: 'agent', tokenId: 't1', via: 'builtin' },
  { subject: 'agent:triage', groups: ['agents', 'team-web'], issuer: 'https://idp.example', kind: 'agent', tokenId: 't2', via: 'builtin' },
  { subject: 'agent:ci', groups: ['ci'], issuer: 'https://idp.example', kind: 'agent', tokenId: 't3', via: 'kubernetes', clientId: 'ci' },
  { subject: 'alice', groups: ['sre', 'staff'], issuer: 'https://idp.example', kind: 'human', tokenId: 't4', via: 'corp' },
  { subject: 'bob', groups: ['team-payments', 'staff'], issuer: 'https://idp.example', kind: 'human', tokenId: 't5', via: 'corp' },
  { subject: 'carol', groups: ['dba', 'team-orders'], issuer: 'https://idp.example', kind: 'human', tokenId: 't6', via: 'corp' },
];

const namespaces = ['web', 'payments', 'kube-system', 'monitoring', 'flux-system', 'default'];
const readResources = ['pods', 'deployments', 'services', 'configmaps', 'events', 'nodes', 'secrets', 'namespaces'];
const writeResources = ['deployments', 'configmaps', 'services', 'pods', 'secrets', 'networkpolicies', 'rolebindings', 'ingresses'];
const connections = ['prod', 'prod', 'staging', 'dev'];
const tables = ['orders', 'order_items', 'payments', 'payments_refunds', 'audit_log', 'customers'];

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)] as T;
}

function pod(rand: () => number): unknown {
  const privileged = rand() < 0.1;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p-${Math.floor(rand() * 1000)}`, labels: { app: 'web' } },
    spec: {
      containers: [
        { name: 'app', image: rand() < 0.9 ? 'registry.example.com/web:1.2.3' : 'docker.io/library/busybox', ...(privileged ? { securityContext: { privileged: true } } : {}) },
        { name: 'sidecar', image: 'registry.example.com/proxy:2', securityContext: { runAsNonRoot: true } },
      ],
      ...(rand() < 0.05 ? { hostNetwork: true } : {}),
    },
  };
}

function kubernetes(rand: () => number): { request: PolicyRequest; object?: unknown } {
  const r = rand();
  const connection = pick(rand, connections);
  const namespace = pick(rand, namespaces);
  const base = { protocol: 'kubernetes', connection, apiVersion: 'v1' };
  if (r < 0.7) {
    const verb = pick(rand, ['get', 'list', 'list', 'watch']);
    const resource = pick(rand, readResources);
    return { request: { ...base, verb, resource, ...(resource === 'nodes' ? {} : { namespace }), ...(verb === 'get' ? { name: 'x-1' } : {}) } };
  }
  if (r < 0.85) {
    const resource = pick(rand, writeResources);
    const verb = pick(rand, ['create', 'update', 'patch']);
    const object = resource === 'pods' ? pod(rand) : resource === 'deployments' ? { spec: { replicas: 3, template: pod(rand) } } : { metadata: { name: 'x' }, data: { k: 'v' } };
    return { request: { ...base, verb, resource, namespace, name: 'x-1' }, object };
  }
  if (r < 0.9) return { request: { ...base, verb: 'delete', resource: pick(rand, writeResources), namespace, name: 'x-1' } };
  if (r < 0.95) {
    const subresource = pick(rand, ['exec', 'log', 'attach', 'portforward']);
    return { request: { ...base, verb: subresource === 'log' ? 'get' : 'create', resource: 'pods', subresource, namespace, name: 'x-1', command: ['sh', '-c', 'ls'] } };
  }
  return { request: { ...base, verb: 'patch', resource: 'deployments', subresource: 'scale', namespace, name: 'x-1' }, object: { spec: { replicas: rand() < 0.5 ? 0 : 2 } } };
}

function postgres(rand: () => number): { request: PolicyRequest } {
  const verb = pick(rand, ['select', 'select', 'select', 'select', 'transaction', 'insert', 'update', 'delete', 'ddl', 'copy']);
  const used = [pick(rand, tables), ...(rand() < 0.3 ? [pick(rand, tables)] : [])];
  return {
    request: {
      protocol: 'postgres',
      connection: 'main-db',
      database: pick(rand, ['orders', 'orders', 'analytics', 'billing']),
      verb,
      statement: verb === 'ddl' ? 'ALTER TABLE orders ADD COLUMN note text' : `${verb.toUpperCase()} … FROM ${used.join(', ')}`,
      tables: used,
    },
  };
}

/** requestMix returns `count` inputs: about 75% Kubernetes, 25% PostgreSQL. */
export function requestMix(count: number, seed = 1): PolicyInput[] {
  const rand = prng(seed);
  const out: PolicyInput[] = [];
  for (let i = 0; i < count; i++) {
    const identity = pick(rand, identities);
    const { request, object } = rand() < 0.75 ? kubernetes(rand) : { ...postgres(rand), object: undefined };
    out.push(object === undefined ? { request, identity } : { request, identity, object });
  }
  return out;
}
