/**
 * Making the paths in a configuration absolute, once, at load time, so no other module has
 * to know where the file was or what the working directory was when airlock started.
 *
 * Paths in a file are relative to the file's directory (a config file and its policy travel
 * together); without a file, relative to the working directory. The SQLite ledger path is
 * relative to the data directory, where the ledger's keys also live.
 */
import { resolve } from 'node:path';
import type { AirlockConfig } from './schema.js';
import type { KubernetesConnectionConfig } from './kubernetes-schema.js';

type Upstream = KubernetesConnectionConfig['upstream'];
const upstreamPathFields = ['ca', 'tokenFile', 'clientCert', 'clientKey', 'kubeconfig'] as const;

function resolveUpstreamPaths(upstream: Upstream, baseDir: string): Upstream {
  const out: Upstream = { ...upstream };
  for (const field of upstreamPathFields) {
    const value = out[field];
    if (value !== undefined) out[field] = resolve(baseDir, value);
  }
  return out;
}

/** resolveConfigPaths returns a copy of the configuration with every path absolute. */
export function resolveConfigPaths(config: AirlockConfig, baseDir: string): AirlockConfig {
  const data = resolve(baseDir, config.data);
  return {
    ...config,
    data,
    ...(config.policy === undefined ? {} : { policy: resolve(baseDir, config.policy) }),
    ...(config.tls === undefined
      ? {}
      : {
          tls: {
            cert: resolve(baseDir, config.tls.cert),
            key: resolve(baseDir, config.tls.key),
            ...(config.tls.ca === undefined ? {} : { ca: resolve(baseDir, config.tls.ca) }),
          },
        }),
    connections: config.connections.map((c) => ({ ...c, upstream: resolveUpstreamPaths(c.upstream, baseDir) })),
    identity: {
      ...config.identity,
      issuers: config.identity.issuers.map((issuer) =>
        issuer.caFile === undefined ? issuer : { ...issuer, caFile: resolve(baseDir, issuer.caFile) },
      ),
    },
    ledger: {
      ...config.ledger,
      sqlite: { ...config.ledger.sqlite, path: resolve(data, config.ledger.sqlite.path) },
      witness: config.ledger.witness.map((witness) =>
        witness.file === undefined ? witness : { ...witness, file: resolve(baseDir, witness.file) },
      ),
    },
  };
}
