/**
 * Loading a configuration file: YAML → `${ENV_VAR}` interpolation → schema → absolute paths.
 * Every failure names the file, the line and column, the field and what was expected, all
 * problems at once (one per line), so one `airlock config check` run shows everything to fix.
 *
 * This module reads the file it is given and nothing else; it does not look for a default
 * file, read flags or touch the data directory (resolve.ts combines file, flags and env).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { AirlockError, type ErrorCode } from '../errors.js';
import { interpolateDocument, type Env } from './interpolate.js';
import { createErrorMap, formatPath, formatProblem, problemsFromIssues, type ConfigProblem, type FieldPath, type Locate } from './issues.js';
import { resolveConfigPaths } from './paths.js';
import { configSchema, type AirlockConfig } from './schema.js';

export interface ParseConfigOptions {
  /** The file name shown in errors (as the user wrote it); `<config>` when absent. */
  file?: string;
  /** Variables for `${ENV_VAR}`; process.env when absent. */
  env?: Env;
  /** Directory that relative paths are resolved against: the file's directory, else the cwd. */
  baseDir?: string;
}

/** A parsed, interpolated but not yet validated configuration, with its positions. */
export interface ConfigSource {
  /** The file as the user named it; absent when there is no file (flags and defaults only). */
  file?: string;
  /** Plain data from the YAML document (null for an empty file). */
  raw: unknown;
  locate?: Locate;
}

/**
 * parseConfig validates configuration text. It throws AIRLOCK_CONFIG_ENV_MISSING when a
 * referenced variable is unset, and AIRLOCK_CONFIG_INVALID for YAML or schema errors; the
 * message lists every problem as `file:line:column: field: expected …`.
 *
 * @example parseConfig('listen: 0.0.0.0:8443\n', { file: 'airlock.yaml', env: process.env })
 */
export function parseConfig(text: string, options: ParseConfigOptions = {}): AirlockConfig {
  const source = readConfigSource(text, options);
  const baseDir = options.baseDir ?? (options.file === undefined ? process.cwd() : dirname(resolve(options.file)));
  return validateConfig(source, baseDir);
}

/**
 * loadConfigFile reads and validates a configuration file; relative paths in it are resolved
 * against its directory. A missing file throws AIRLOCK_CONFIG_NOT_FOUND.
 */
export function loadConfigFile(path: string, options: { env?: Env } = {}): AirlockConfig {
  return parseConfig(readConfigFile(path), { file: path, env: options.env, baseDir: dirname(resolve(path)) });
}

/** readConfigFile returns the file's text, with the common failures as catalog errors. */
export function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AirlockError('AIRLOCK_CONFIG_NOT_FOUND', `${path} does not exist`, { cause: err });
    if (code === 'EISDIR') throw new AirlockError('AIRLOCK_CONFIG_INVALID', `${path} is a directory; expected a YAML file`);
    if (code === 'EACCES') throw new AirlockError('AIRLOCK_CONFIG_INVALID', `${path} cannot be read (permission denied)`);
    throw err;
  }
}

/**
 * readConfigSource parses YAML and fills `${ENV_VAR}` references; it throws on YAML syntax
 * errors and on references that cannot be filled.
 */
export function readConfigSource(text: string, options: { file?: string; env?: Env } = {}): ConfigSource {
  const file = options.file ?? '<config>';
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  if (doc.errors.length > 0) {
    fail('AIRLOCK_CONFIG_INVALID', doc.errors.map((e) => ({ file, ...position(e.pos[0]), field: 'YAML syntax', message: e.message })));
  }

  const missing = interpolateDocument(doc, options.env ?? process.env);
  if (missing.length > 0) {
    const problems = missing.map((p) => ({ file, ...position(p.offset), field: formatPath(p.path), message: p.message }));
    fail(missing.every((p) => p.kind === 'missing') ? 'AIRLOCK_CONFIG_ENV_MISSING' : 'AIRLOCK_CONFIG_INVALID', problems);
  }

  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // yaml refuses documents whose aliases expand too far (a "billion laughs" document).
    fail('AIRLOCK_CONFIG_INVALID', [{ file, line: 1, column: 1, field: 'YAML', message: (err as Error).message }]);
  }
  return { file, raw, locate: (path, opts) => position(offsetOf(doc.contents, path, opts?.key ?? false)) };
}

/**
 * validateConfig checks a source against the schema and makes its paths absolute against
 * baseDir. It throws AIRLOCK_CONFIG_INVALID listing every problem.
 */
export function validateConfig(source: ConfigSource, baseDir: string): AirlockConfig {
  const input = withoutEmptyValues(source.raw) ?? {};
  const { errorMap, knownKeys } = createErrorMap();
  const result = configSchema.safeParse(input, { error: errorMap });
  if (!result.success) {
    fail('AIRLOCK_CONFIG_INVALID', problemsFromIssues(result.error.issues, input, knownKeys, source));
  }
  return resolveConfigPaths(result.data, baseDir);
}

/** formatProblems renders problems one per line, after a count when there are several. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  const lines = problems.map(formatProblem);
  return lines.length === 1 ? (lines[0] ?? '') : `${lines.length} problems:\n${lines.join('\n')}`;
}

/**
 * withoutEmptyValues drops map entries with no value (`admin:` with every line below it
 * commented out), so they mean "not set" and get their defaults instead of a type error.
 * List items are kept: `- ` in a list is a mistake worth reporting.
 */
function withoutEmptyValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmptyValues);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // defineProperty, not assignment: a `__proto__` key must stay an (unknown) key, not
    // become the object's prototype and lend it inherited settings.
    if (item !== null) Object.defineProperty(out, key, { value: withoutEmptyValues(item), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function fail(code: ErrorCode, problems: ConfigProblem[]): never {
  throw new AirlockError(code, formatProblems(problems), { details: { problems } });
}

/**
 * offsetOf finds where a field is written: the deepest node along the path that exists (a
 * missing field is reported at the map that should hold it), or the key itself when asked.
 */
function offsetOf(root: unknown, path: FieldPath, wantKey: boolean): number {
  let node = root;
  let offset = rangeStart(node);
  for (const [index, segment] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(segment));
      if (pair === undefined) break;
      if (wantKey && index === path.length - 1) return rangeStart(pair.key) ?? offset ?? 0;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else {
      break;
    }
    offset = rangeStart(node) ?? offset;
  }
  return offset ?? 0;
}

function rangeStart(node: unknown): number | undefined {
  return node !== null && typeof node === 'object' ? (node as Node).range?.[0] : undefined;
}
