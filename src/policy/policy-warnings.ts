/**
 * Warnings about rules that compile but probably do not mean what they say: the two most
 * common mistakes in a first policy, both a deny or review rule that reads something some
 * requests do not have, without `has()`.
 *
 * - `request.resource == "secrets"`: kubectl's discovery (`/api`, `/apis`, `/version`) has no
 *   resource.
 * - `object.spec.hostNetwork == true`: a get, list, watch or delete carries no object.
 *
 * Reading what is absent is an error, and an erroring deny or review rule counts as matched
 * (fail closed): the rule would deny or hold every such request, and kubectl stops working.
 * The decision is right to fail closed; the warning says so before it happens.
 *
 * Pure: reads a rule's syntax tree and guards (guards.ts), never evaluates anything.
 */
import type { ASTNode } from '@marcbachmann/cel-js';
import { conjuncts, type Guard, type Node } from './guards.js';

/** Request fields every request has; every other field is absent on some requests. */
const ALWAYS_PRESENT = new Set(['protocol', 'connection', 'verb']);

/** The part of a rule the warnings read. */
type WarnedRule = { name: string; effect: string; line: number };

/**
 * reachableOnGet: a plain GET (kubectl's discovery, any read) can get past the rule's verb
 * guard. A rule whose verb guard leaves `get` out is false there first, and in CEL
 * `false && error` is false.
 */
function reachableOnGet(guards: readonly Guard[]): boolean {
  const verb = guards.find((g) => g.field === 'verb');
  return !verb?.values || verb.values.has('get');
}

/** warning words one finding: what is absent where, what the rule then does, and the guard to write. */
function warning(rule: WarnedRule, file: string, what: string, where: string): string {
  return (
    `${file}:${rule.line}: rule "${rule.name}": ${what} is absent on ${where}; ` +
    `there this ${rule.effect} rule fails and so ${rule.effect === 'deny' ? 'denies' : 'holds'} them. `
  );
}

/**
 * unguardedFieldWarnings names, for a deny or review rule a plain GET reaches, each optional
 * request field it compares without has(): discovery requests have no resource, namespace, …
 */
export function unguardedFieldWarnings(rule: WarnedRule, guards: readonly Guard[], file: string): string[] {
  if (rule.effect === 'allow' || !reachableOnGet(guards)) return []; // an erroring allow rule simply does not match
  return guards
    .filter((g) => g.values !== undefined && !g.present && !ALWAYS_PRESENT.has(g.field))
    .map(
      (g) =>
        warning(rule, file, `request.${g.field}`, 'some requests (discovery, /version and other paths without it)') +
        `Write has(request.${g.field}) && … to leave them alone.`,
    );
}

/**
 * unguardedObjectWarnings names, for a deny or review rule that a plain GET can reach, each
 * top-level field of `object` it reads without a top-level `has(object.F)`: requests that
 * carry no object (get, list, watch, delete) make the rule fail, and so match.
 */
export function unguardedObjectWarnings(rule: WarnedRule, ast: ASTNode, guards: readonly Guard[], file: string): string[] {
  if (rule.effect === 'allow' || !reachableOnGet(guards)) return [];
  const guarded = new Set<string>();
  for (const c of conjuncts(ast)) {
    const tested = hasObjectPath(c);
    if (tested?.length === 1) guarded.add(tested[0]!);
  }
  const read = new Set<string>();
  const visit = (n: Node): void => {
    if (hasObjectPath(n)?.length === 1) return; // has(object.F) reads nothing
    const path = objectPath(n);
    if (path?.length === 1) read.add(path[0]!);
    for (const child of children(n)) visit(child);
  };
  visit(ast as unknown as Node);
  return [...read]
    .filter((f) => !guarded.has(f))
    .map(
      (f) =>
        warning(rule, file, `object.${f}`, 'requests that carry no object (get, list, watch, delete)') +
        `Write has(object.${f}) && … (or test request.verb first) to leave them alone.`,
    );
}

/**
 * unguardedObjectPathWarnings names, for a deny or review rule, each nested field of `object`
 * (`object.spec.hostNetwork`) it reads without `has()` of that path in the same `&&` chain.
 * Most objects leave such fields unset, and there the rule fails and so matches: a rule meant
 * for privileged pods would deny every pod. Top-level fields are unguardedObjectWarnings'.
 */
export function unguardedObjectPathWarnings(rule: WarnedRule, ast: ASTNode, file: string): string[] {
  if (rule.effect === 'allow') return [];
  const found = new Set<string>();
  const read = (path: string[], guarded: ReadonlySet<string>): void => {
    for (let depth = 2; depth <= path.length; depth++) {
      const prefix = path.slice(0, depth).join('.');
      if (!guarded.has(prefix)) {
        found.add(prefix);
        return;
      }
    }
  };
  const visit = (n: Node, guarded: ReadonlySet<string>): void => {
    if (n.op === '&&') {
      // In CEL, a has() anywhere in the chain guards every conjunct: false && error is false.
      const parts = flattenAnd(n);
      const inChain = new Set(guarded);
      for (const p of parts) {
        const path = hasObjectPath(p);
        if (path) inChain.add(path.join('.'));
      }
      for (const p of parts) visit(p, inChain);
      return;
    }
    const tested = hasObjectPath(n);
    if (tested) {
      if (tested.length > 2) read(tested.slice(0, -1), guarded); // has(object.a.b.c) reads object.a.b
      return;
    }
    const path = objectPath(n);
    if (path) return read(path, guarded);
    for (const child of children(n)) visit(child, guarded);
  };
  visit(ast as unknown as Node, new Set());
  return [...found].map((p) => warning(rule, file, `object.${p}`, 'objects that do not set it') + `Write has(object.${p}) && … to leave them alone.`);
}

/** flattenAnd lists the operands of a chain of `&&`. */
function flattenAnd(n: Node): Node[] {
  if (n.op !== '&&') return [n];
  return (n.args as Node[]).flatMap(flattenAnd);
}

/** objectPath returns [F, G, …] when `n` is the plain select chain `object.F.G…`. */
function objectPath(n: Node): string[] | undefined {
  const keys: string[] = [];
  let cur = n;
  while (cur.op === '.') {
    const [base, key] = cur.args as [Node, unknown];
    if (typeof key !== 'string' || !base) return undefined;
    keys.unshift(key);
    cur = base;
  }
  return cur.op === 'id' && cur.args === 'object' && keys.length > 0 ? keys : undefined;
}

/**
 * hasObjectPath returns the path tested when `n` is the macro `has(object.F.G…)`. Only
 * `has(object.F)` guards object.F: `has(object.F.G)` reads object.F, and fails when it is
 * absent (that is CEL).
 */
function hasObjectPath(n: Node): string[] | undefined {
  if (n.op !== 'call' || !n.meta?.macro) return undefined;
  const [name, args] = n.args as [unknown, Node[]];
  if (name !== 'has' || !Array.isArray(args) || args.length !== 1 || !args[0]) return undefined;
  return objectPath(args[0]);
}

/** children lists the nodes directly below `n`, wherever its arguments hold them. */
function children(n: Node): Node[] {
  const out: Node[] = [];
  const add = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) add(x);
    else if (v !== null && typeof v === 'object' && 'op' in v) out.push(v as Node);
  };
  add(n.args);
  return out;
}
