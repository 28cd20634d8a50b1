/**
 * airlock's configuration: one YAML file validated by a schema, `${ENV_VAR}` interpolation,
 * and command-line flags over the file. docs/configuration.md describes every field.
 */
export { formatDuration, parseDuration } from './duration.js';
export { formatHostPort, parseHostPort, urlForListener, type HostPort } from './host-port.js';
export { logLevels, type LogLevel } from './fields.js';
export { allowedAlgorithms, type IdentityConfig, type OidcIssuerConfig } from './identity-schema.js';
export type { LedgerConfig, WitnessConfig } from './ledger-schema.js';
export { configSchema, defaultAdminListen, defaultDataDir, defaultListen, type AirlockConfig, type ConnectionConfig } from './schema.js';
export type { Env } from './interpolate.js';
export type { ConfigProblem } from './issues.js';
export { formatProblems, loadConfigFile, parseConfig, type ParseConfigOptions } from './load.js';
export { resolveConfig, type ConfigFlags, type ResolveConfigOptions } from './resolve.js';
export { describeConfig, redactConfig, redactUrl } from './describe.js';
