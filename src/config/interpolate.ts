/**
 * `${ENV_VAR}` interpolation, so that secrets (database URLs, witness tokens) stay out of the
 * configuration file and come from the environment or a secret manager that fills it.
 *
 * Syntax, a subset of the POSIX shell's:
 *   `${NAME}`            the variable's value; an unset variable is an error
 *   `${NAME:-default}`   the default when the variable is unset or empty
 *   `$${`                a literal `${` (any other `$` is kept as it is)
 *
 * Only string values are interpolated, never keys, and only after YAML parsing: a value
 * cannot inject YAML structure (a newline and a new key) into the document.
 *
 * Nothing here returns or reports an interpolated value; problems name the variable and
 * where the reference is, because the value is likely a secret.
 */
import { isMap, isScalar, isSeq, type Document, type Node } from 'yaml';

export type Env = Readonly<Record<string, string | undefined>>;

/** A reference that could not be filled: an unset variable, or text that is not a reference. */
export interface InterpolationProblem {
  kind: 'missing' | 'malformed';
  /** Key path of the value holding the reference, e.g. ['ledger', 'postgres', 'url']. */
  path: Array<string | number>;
  /** Character offset of the value in the source (for line:column). */
  offset: number;
  message: string;
}

const reference = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/**
 * interpolateString fills the references in one string. It returns the new text, or the
 * problems (with `offset` 0: the caller knows where the string is).
 */
export function interpolateString(text: string, env: Env): { value: string } | { problems: InterpolationProblem[] } {
  const problems: InterpolationProblem[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) break;
    out += text.slice(i, dollar);
    if (text.startsWith('$${', dollar)) {
      out += '${';
      i = dollar + 3;
      continue;
    }
    if (!text.startsWith('${', dollar)) {
      out += '$';
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close < 0) {
      problems.push(problem('malformed', '`${` is not closed by `}`; write `$${` for a literal `${`'));
      return { problems };
    }
    const match = reference.exec(text.slice(dollar + 2, close));
    const [, name, fallback] = match ?? [];
    if (name === undefined || (fallback !== undefined && fallback.includes('${'))) {
      problems.push(problem('malformed', 'expected ${NAME} or ${NAME:-default} (NAME: letters, digits, _; no nesting); write $${ for a literal ${'));
    } else {
      const value = env[name];
      if (value !== undefined && (value !== '' || fallback === undefined)) out += value;
      else if (fallback !== undefined) out += fallback;
      else problems.push(problem('missing', `environment variable ${name} is not set (set it, or write \${${name}:-default})`));
    }
    i = close + 1;
  }
  out += text.slice(i);
  return problems.length > 0 ? { problems } : { value: out };
}

/**
 * interpolateDocument replaces references in every string scalar of the document, in place,
 * and returns the problems found (empty when every reference was filled).
 */
export function interpolateDocument(doc: Document, env: Env): InterpolationProblem[] {
  const problems: InterpolationProblem[] = [];
  walk(doc.contents, [], env, problems);
  return problems;
}

function walk(node: unknown, path: Array<string | number>, env: Env, problems: InterpolationProblem[]): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      walk(pair.value, [...path, typeof key === 'number' ? key : String(key)], env, problems);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => walk(item, [...path, index], env, problems));
  } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
    const result = interpolateString(node.value, env);
    if ('value' in result) {
      node.value = result.value;
    } else {
      const offset = (node as Node).range?.[0] ?? 0;
      for (const found of result.problems) problems.push({ ...found, path, offset });
    }
  }
  // Aliases are skipped: they point at an anchored node that is interpolated where it stands.
}

function problem(kind: InterpolationProblem['kind'], message: string): InterpolationProblem {
  return { kind, path: [], offset: 0, message };
}
