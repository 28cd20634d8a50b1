/**
 * What a JavaScript value looks like to cel-js, restated so that the fast path can decide,
 * cheaply and without throwing, whether it may handle a value itself or must hand the rule
 * back to cel-js. Every predicate here is *narrower* than cel-js: a value it rejects may still
 * be fine for cel-js, which is safe (the rule is then evaluated by cel-js), while a value it
 * accepts is guaranteed to be handled by cel-js exactly as the fast path assumes.
 */

/** BAIL is what a fast-path closure returns when it cannot answer exactly; cel-js decides instead. */
export const BAIL: unique symbol = Symbol('airlock.policy.bail');
export type Bail = typeof BAIL;

const objectProto = Object.prototype;
const hasOwn = Object.hasOwn;

/**
 * isPlainMap reports whether `v` is a plain (or null-prototype) object without an own
 * `constructor` key. cel-js treats an object as a map when `v.constructor` is `Object` or
 * `undefined`, which such an object satisfies; `{"constructor": "x"}` it rejects, and so do
 * we. Reading `v[key]` then sees only own properties for keys that are not
 * `Object.prototype` members, which the rule index relies on.
 *
 * Why not read `v.constructor` like cel-js: on request-shaped objects of many shapes that
 * inherited-property load is megamorphic and costs about 100 ns, against about 25 ns here.
 */
export function isPlainMap(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return (proto === objectProto || proto === null) && !hasOwn(v, 'constructor');
}

/**
 * isPlainList reports whether `v` is an array cel-js takes as a list: its `constructor` is
 * `Array` (cel-js's own test). Arrays share a few hidden classes, so this load stays cheap.
 */
export function isPlainList(v: unknown): v is unknown[] {
  return Array.isArray(v) && (v as { constructor?: unknown }).constructor === Array;
}

/**
 * isCelValue reports whether cel-js accepts `v` as a `dyn` value without converting it:
 * strings, numbers, bigints, booleans, null, plain lists and plain maps. `undefined`,
 * functions, symbols, Maps, Sets, Dates and class instances are left to cel-js.
 */
export function isCelValue(v: unknown): boolean {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'bigint':
    case 'boolean':
      return true;
    case 'object':
      return v === null || (Array.isArray(v) ? isPlainList(v) : isPlainMap(v));
    default:
      return false;
  }
}

/** celTypeName names a value's CEL type for messages (`string`, `int`, `map`, …); never the value. */
export function celTypeName(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      return 'double';
    case 'boolean':
      return 'bool';
    case 'undefined':
      return 'absent';
    case 'object':
      if (v === null) return 'null';
      if (Array.isArray(v)) return 'list';
      if (v instanceof Uint8Array) return 'bytes';
      return 'map';
    default:
      return typeof v;
  }
}

/** Keys an own-property lookup must never be confused with inherited members. */
export function isPrototypeKey(key: string): boolean {
  return key in objectProto;
}
