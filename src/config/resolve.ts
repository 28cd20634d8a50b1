/**
 * The effective configuration: the file (from `--config` or `AIRLOCK_CONFIG`), then the
 * command-line flags on top, then defaults for everything left unset. A first try needs no
 * file at all: `airlock start --data DIR --listen HOST:PORT --admin HOST:PORT --policy FILE`.
 *
 * Flags are validated with the same field schemas as the file, so `--listen foo` and
 * `listen: foo` fail with the same words; a flag's error names the flag. Relative paths in
 * flags are relative to the working directory, as a shell user expects.
 */
import { dirname, resolve } from 'node:path';
import type * as z from 'zod';
import { AirlockError } from '../errors.js';
import { hostPortSchema, logLevelSchema, pathSchema } from './fields.js';
import type { Env } from './interpolate.js';
import { createErrorMap, type ConfigProblem } from './issues.js';
import { formatProblems, readConfigFile, readConfigSource, validateConfig, type ConfigSource } from './load.js';
import type { AirlockConfig } from './schema.js';

export { describeConfig, redactConfig } from './describe.js';

/** The flags that override the file for the common cases (upstream flags come later). */
export interface ConfigFlags {
  /** `--data DIR` → `data` */
  data?: string;
  /** `--listen HOST:PORT` → `listen` */
  listen?: string;
  /** `--admin HOST:PORT` → `admin.listen` */
  admin?: string;
  /** `--policy FILE` → `policy` */
  policy?: string;
  /** `--log-level LEVEL` → `log.level` */
  logLevel?: string;
  /** `--kubeconfig FILE [--context NAME]` → the `default` Kubernetes connection */
  kubeconfig?: string;
  context?: string;
  /** `--upstream URL --upstream-token-file FILE [--upstream-ca FILE | --upstream-insecure]` → the `default` connection */
  upstream?: string;
  upstreamTokenFile?: string;
  upstreamCa?: string;
  upstreamInsecure?: boolean;
}

export interface ResolveConfigOptions {
  /** `--config FILE`; when absent, the `AIRLOCK_CONFIG` variable names the file, if set. */
  configFile?: string;
  flags?: ConfigFlags;
  /** Variables for `AIRLOCK_CONFIG` and `${ENV_VAR}` interpolation; process.env when absent. */
  env?: Env;
  /** Working directory for relative flag paths and a relative file name; process.cwd() when absent. */
  cwd?: string;
}

type Raw = Record<string, unknown>;

interface FlagRule {
  flag: string;
  schema: z.ZodType;
  apply(raw: Raw, value: string, cwd: string): void;
}

const flagRules: Record<'data' | 'listen' | 'admin' | 'policy' | 'logLevel', FlagRule> = {
  data: { flag: '--data', schema: pathSchema, apply: (raw, value, cwd) => (raw.data = resolve(cwd, value)) },
  listen: { flag: '--listen', schema: hostPortSchema, apply: (raw, value) => (raw.listen = value) },
  admin: { flag: '--admin', schema: hostPortSchema, apply: (raw, value) => setIn(raw, 'admin', 'listen', value) },
  policy: { flag: '--policy', schema: pathSchema, apply: (raw, value, cwd) => (raw.policy = resolve(cwd, value)) },
  logLevel: { flag: '--log-level', schema: logLevelSchema, apply: (raw, value) => setIn(raw, 'log', 'level', value) },
};

/**
 * applyUpstreamFlags turns the one-line-start flags into a Kubernetes connection named
 * `default`, replacing a `default` connection of the file. The connection schema then
 * checks the combination (one way to reach the cluster, a credential with a URL).
 */
function applyUpstreamFlags(raw: Raw, flags: ConfigFlags, cwd: string): void {
  const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(cwd, p));
  const upstream: Raw = {};
  if (flags.kubeconfig !== undefined) upstream.kubeconfig = abs(flags.kubeconfig);
  if (flags.context !== undefined) upstream.context = flags.context;
  if (flags.upstream !== undefined) upstream.url = flags.upstream;
  if (flags.upstreamTokenFile !== undefined) upstream.tokenFile = abs(flags.upstreamTokenFile);
  if (flags.upstreamCa !== undefined) upstream.ca = abs(flags.upstreamCa);
  if (flags.upstreamInsecure) upstream.insecure = true;
  if (Object.keys(upstream).length === 0) return;
  const existing = Array.isArray(raw.connections) ? (raw.connections as unknown[]) : [];
  const others = existing.filter((c) => !(isPlainObject(c) && (c as Raw).name === 'default'));
  raw.connections = [...others, { name: 'default', type: 'kubernetes', upstream }];
}

/**
 * resolveConfig returns the configuration airlock runs with: file, then flags, then
 * defaults. It throws AIRLOCK_CONFIG_NOT_FOUND for a named file that does not exist and
 * AIRLOCK_CONFIG_INVALID (listing every problem, flags by name) for anything invalid.
 *
 * @example resolveConfig({ flags: { data: './data', listen: '127.0.0.1:8443' } })
 */
export function resolveConfig(options: ResolveConfigOptions = {}): AirlockConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const flags = options.flags ?? {};
  checkFlags(flags);

  const configFile = options.configFile ?? (env.AIRLOCK_CONFIG || undefined);
  let source: ConfigSource = { raw: {} };
  let baseDir = cwd;
  if (configFile !== undefined) {
    const path = resolve(cwd, configFile);
    source = readConfigSource(readConfigFile(path), { file: configFile, env });
    baseDir = dirname(path);
  }

  // A file whose top level is not a map is left as it is, so validation reports it.
  const raw = source.raw ?? {};
  if (isPlainObject(raw)) {
    const merged: Raw = { ...raw };
    for (const [key, rule] of Object.entries(flagRules) as Array<[keyof typeof flagRules, FlagRule]>) {
      const value = flags[key];
      if (value !== undefined) rule.apply(merged, value, cwd);
    }
    applyUpstreamFlags(merged, flags, cwd);
    source = { ...source, raw: merged };
  }
  return validateConfig(source, baseDir);
}

/** checkFlags validates every flag given and throws once, naming each bad flag. */
function checkFlags(flags: ConfigFlags): void {
  const problems: ConfigProblem[] = [];
  for (const [key, rule] of Object.entries(flagRules) as Array<[keyof typeof flagRules, FlagRule]>) {
    const value = flags[key];
    if (value === undefined) continue;
    const { errorMap } = createErrorMap();
    const result = rule.schema.safeParse(value, { error: errorMap });
    if (!result.success) {
      for (const issue of result.error.issues) problems.push({ field: rule.flag, message: issue.message });
    }
  }
  if (problems.length > 0) {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', formatProblems(problems), { details: { problems } });
  }
}

/** setIn sets `raw[section][key]`, keeping the section's other fields from the file. */
function setIn(raw: Raw, section: string, key: string, value: string): void {
  const current = raw[section];
  // A section that is not a map is a file error; leave it for validation to report.
  if (current !== undefined && current !== null && !isPlainObject(current)) return;
  raw[section] = { ...(current ?? {}), [key]: value };
}

function isPlainObject(value: unknown): value is Raw {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
