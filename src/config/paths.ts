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

/** resolveConfigPaths returns a copy of the configuration with every path absolute. */
export function resolveConfigPaths(config: AirlockConfig, baseDir: string): AirlockConfig {
  const data = resolve(baseDir, config.data);
  return {
    ...config,
    data,
    ...(config.policy === undefined ? {} : { policy: resolve(baseDir, config.policy) }),
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
