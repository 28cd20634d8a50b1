/**
 * The macros and methods of the closure subset: `has()`, `exists()`, `all()` and the string
 * methods `startsWith`, `endsWith`, `contains`. Each restates cel-js's answer exactly and
 * returns BAIL wherever cel-js would error or might answer differently.
 */
import { BAIL, isCelValue, isPlainList } from './cel-values.js';
import { hasOwn, identityField, identitySlot, isMapValue, rootSlot, type Build, type Closure, type Node, type Scope } from './closure-scope.js';

/**
 * hasMacro mirrors cel-js `has(a.b.c)`: every step but the last must be an existing map
 * field (cel-js errors otherwise); the last step is false on an absent key and also on a
 * non-map parent (string, number, bool, null or list), as cel-js answers.
 */
export function hasMacro(n: Node, scope: Scope, build: Build): Closure | undefined {
  const [name, args] = n.args as [unknown, Node[]];
  if (name !== 'has' || args.length !== 1) return undefined;
  const keys: string[] = [];
  let node = args[0] as Node;
  while (node.op === '.') {
    const [base, key] = node.args as [Node, unknown];
    if (typeof key !== 'string') return undefined;
    keys.unshift(key);
    node = base;
  }
  if (node.op !== 'id' || keys.length === 0) return undefined;
  const fromIdentity = rootSlot(node, scope) === identitySlot;
  const root = fromIdentity ? undefined : build(node, scope);
  if (!fromIdentity && !root) return undefined;
  const last = keys.pop() as string;
  const first = keys[0] ?? last;
  return (v) => {
    let o: unknown;
    let i = 0;
    if (fromIdentity) {
      // The identity map's first step, read from the caller's identity object.
      const x = identityField(v[identitySlot], first);
      if (keys.length === 0) return x === undefined ? false : isCelValue(x) ? true : BAIL;
      if (x === undefined || !isCelValue(x)) return BAIL;
      o = x;
      i = 1;
    } else {
      o = (root as Closure)(v);
    }
    for (; i < keys.length; i++) {
      const key = keys[i] as string;
      if (!isMapValue(o) || !hasOwn(o, key)) return BAIL;
      const x = o[key];
      if (x === undefined || !isCelValue(x)) return BAIL;
      o = x;
    }
    if (isMapValue(o)) {
      const x = hasOwn(o, last) ? o[last] : undefined;
      if (x === undefined) return false;
      return isCelValue(x) ? true : BAIL;
    }
    const t = typeof o;
    if (t === 'string' || t === 'number' || t === 'bigint' || t === 'boolean' || o === null || isPlainList(o)) return false;
    return BAIL;
  };
}

/** quantifier compiles `list.exists(x, p)` and `list.all(x, p)` over plain lists. */
export function quantifier(n: Node, scope: Scope, build: Build): Closure | undefined {
  const [name, receiver, args] = n.args as [unknown, Node, Node[]];
  if ((name !== 'exists' && name !== 'all') || args.length !== 2) return undefined;
  const iterVar = args[0] as Node;
  if (iterVar.op !== 'id' || typeof iterVar.args !== 'string') return undefined;
  const items = build(receiver, scope);
  if (!items) return undefined;
  const slot = scope.next;
  scope.used.max = Math.max(scope.used.max, slot + 1);
  const inner: Scope = { names: new Map(scope.names).set(iterVar.args, slot), next: slot + 1, used: scope.used };
  const pred = build(args[1] as Node, inner);
  if (!pred) return undefined;
  // exists stops at the first true, all at the first false; an unsure element only matters
  // when no element settles the result (cel-js then rethrows the element's error).
  const settle = name === 'exists';
  return (v) => {
    const list = items(v);
    if (!isPlainList(list)) return BAIL;
    let unsure = false;
    for (let i = 0; i < list.length; i++) {
      const x = list[i];
      if (!isCelValue(x)) return BAIL;
      v[slot] = x;
      const p = pred(v);
      if (p === settle) return settle;
      if (p !== !settle) unsure = true;
    }
    return unsure ? BAIL : !settle;
  };
}

const stringMethods: Record<string, (a: string, b: string) => boolean> = {
  startsWith: (a, b) => a.startsWith(b),
  endsWith: (a, b) => a.endsWith(b),
  contains: (a, b) => a.includes(b),
};

/** stringMethod compiles `s.startsWith(x)`, `s.endsWith(x)` and `s.contains(x)` on strings. */
export function stringMethod(n: Node, scope: Scope, build: Build): Closure | undefined {
  const [name, receiver, args] = n.args as [unknown, Node, Node[]];
  const method = typeof name === 'string' && hasOwn(stringMethods, name) ? stringMethods[name] : undefined;
  if (!method || args.length !== 1 || n.meta?.macro) return undefined;
  const r = build(receiver, scope);
  const a = build(args[0] as Node, scope);
  if (!r || !a) return undefined;
  return (v) => {
    const s = r(v);
    const x = a(v);
    return typeof s === 'string' && typeof x === 'string' ? method(s, x) : BAIL;
  };
}
