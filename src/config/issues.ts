/**
 * Turning schema issues into messages a person can act on: where (file:line:column), which
 * field (`ledger.checkpoint.interval`), and what was expected. zod's own wording ("Invalid
 * input: expected int, received string") is replaced with plain words, and a misspelt key
 * gets a "did you mean" suggestion.
 *
 * No message includes a value from the configuration: values may be interpolated secrets.
 * Types ("got a list") and key names are safe to show; values are not.
 */
import type * as z from 'zod';
import { describeType } from './fields.js';

export type FieldPath = ReadonlyArray<PropertyKey>;

/** One problem in a configuration source, ready to print as `file:line:column: path: message`. */
export interface ConfigProblem {
  /** The file as the user named it; absent for problems in command-line flags. */
  file?: string;
  line?: number;
  column?: number;
  /** Dotted field path (`identity.issuers[0].audience`), or the flag (`--listen`). */
  field: string;
  message: string;
}

/** Where a field is in the source; `key` asks for the key's position rather than the value's. */
export type Locate = (path: FieldPath, options?: { key?: boolean }) => { line: number; column: number };

/**
 * createErrorMap returns a per-parse zod error map with plain wording. It also remembers
 * the keys each strict object accepts, so unknown keys can be matched to a suggestion.
 */
export function createErrorMap(): { errorMap: z.core.$ZodErrorMap; knownKeys: Map<string, string[]> } {
  const knownKeys = new Map<string, string[]>();
  const errorMap: z.core.$ZodErrorMap = (issue) => {
    switch (issue.code) {
      case 'invalid_type':
        // The top level is the one place a user can write something other than a map by accident
        // (a list, or a bare value), so say what the file should look like.
        return (issue.path ?? []).length === 0 ? 'expected a map of settings (`key: value` lines)' : expectedType(issue.expected);
      case 'unrecognized_keys': {
        const shape = (issue.inst?._zod.def as { shape?: Record<string, unknown> } | undefined)?.shape;
        knownKeys.set(pathKey(issue.path ?? []), Object.keys(shape ?? {}));
        return `unknown field ${issue.keys.map((k) => `\`${k}\``).join(', ')}`;
      }
      case 'invalid_value':
        return `expected one of ${issue.values.map(String).join(', ')}`;
      case 'too_small':
        return sizeMessage(issue.origin, 'at least', issue.minimum, issue.inclusive);
      case 'too_big':
        return sizeMessage(issue.origin, 'at most', issue.maximum, issue.inclusive);
      case 'invalid_format':
        return 'has the wrong format';
      case 'invalid_union':
        return 'does not match any accepted form';
      case 'invalid_key':
        return 'has a key that is not allowed here';
      default:
        return undefined;
    }
  };
  return { errorMap, knownKeys };
}

/**
 * problemsFromIssues places every issue in the source. An unknown-keys issue becomes one
 * problem per key, each pointing at the key itself.
 */
export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  knownKeys: Map<string, string[]>,
  where: { file?: string; locate?: Locate },
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = (path: FieldPath, key = false) => ({ file: where.file, ...where.locate?.(path, { key }) });
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys.get(pathKey(issue.path)) ?? [];
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        const suggestion = suggest(key, known);
        const hint = suggestion ? `did you mean \`${suggestion}\`?` : `expected one of ${known.join(', ')}`;
        problems.push({ ...at(path, true), field: formatPath(path), message: `unknown field \`${key}\`; ${hint}` });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      // A map key (a header name) failed: point at the key and say what a key must be.
      problems.push({ ...at(issue.path, true), field: formatPath(issue.path), message: issue.issues[0]?.message ?? issue.message });
      continue;
    }
    problems.push({ ...at(issue.path), field: formatPath(issue.path), message: withActual(issue, input) });
  }
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** formatProblem renders `file:line:column: field: message` (or `field: message` for flags). */
export function formatProblem(problem: ConfigProblem): string {
  const place = problem.file === undefined ? '' : `${problem.file}:${problem.line ?? 1}:${problem.column ?? 1}: `;
  return `${place}${problem.field}: ${problem.message}`;
}

/** formatPath writes a key path the way a reader finds it in YAML: `a.b[0].c`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const segment of path) {
    const name = String(segment);
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) out += `[${JSON.stringify(name)}]`;
    else out += out === '' ? name : `.${name}`;
  }
  return out === '' ? '(top level)' : out;
}

/** suggest finds the known key a misspelt key most likely meant, if any is close enough. */
export function suggest(key: string, known: readonly string[]): string | undefined {
  const normal = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const exact = known.find((k) => normal(k) === normal(key));
  if (exact) return exact;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(normal(key), normal(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** withActual adds what was found to a type mismatch: "missing" or "got a list". */
function withActual(issue: z.core.$ZodIssue, input: unknown): string {
  const mismatch = issue.code === 'invalid_type' || issue.code === 'invalid_union' || issue.code === 'invalid_value';
  if (!mismatch) return issue.message;
  const actual = valueAt(input, issue.path);
  if (actual === undefined) return `missing; ${issue.message}`;
  return issue.code === 'invalid_type' && !issue.message.includes(', got ') ? `${issue.message}, got ${describeType(actual)}` : issue.message;
}

function expectedType(expected: string): string {
  switch (expected) {
    case 'string':
      return 'expected a string';
    case 'number':
      return 'expected a number';
    case 'int':
      return 'expected a whole number';
    case 'boolean':
      return 'expected true or false';
    case 'object':
    case 'record':
      return 'expected a map of `key: value` lines';
    case 'array':
      return 'expected a list';
    default:
      return `expected ${expected}`;
  }
}

function sizeMessage(origin: string, bound: string, limit: number | bigint, inclusive?: boolean): string {
  const n = Number(limit);
  switch (origin) {
    case 'array':
    case 'set':
      return `expected ${bound} ${n} item${n === 1 ? '' : 's'}`;
    case 'string':
      return n === 1 && bound === 'at least' ? 'expected a non-empty string' : `expected ${bound} ${n} characters`;
    default:
      return inclusive === false ? `expected a number ${bound === 'at least' ? 'above' : 'below'} ${n}` : `expected ${bound} ${n}`;
  }
}

function valueAt(input: unknown, path: FieldPath): unknown {
  let node = input;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
}

function pathKey(path: FieldPath): string {
  return JSON.stringify(path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment)));
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
