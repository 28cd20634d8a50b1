/**
 * The rule index picks, for one request, the rules that can possibly match, so that a
 * 50-rule policy costs a handful of evaluations instead of fifty.
 *
 * The up to five request fields that guards mention most (typically `protocol`, `verb`,
 * `resource`, `namespace`, `subresource`) are indexed. Each field's value falls in a bucket: one per string a guard
 * names, one for any other string, one for "absent" and one for "present but not a string".
 * The candidate lists of a bucket combination are computed on first use and kept; there are
 * at most as many combinations as the policy's own guard values allow, whatever the traffic.
 * Guards on other fields are judged per candidate (`residual`).
 */
import type { Closure } from './closure-compiler.js';
import type { Effect } from './decision.js';
import { EXCLUDED, PROVEN, UNKNOWN, judgeGuard, type Guard, type GuardVerdict } from './guards.js';

/** What the index needs to know about a rule. */
export interface IndexedRule {
  effect: Effect;
  guards: readonly Guard[];
  /** The closure of the whole rule and of its body (without guards), when it has them. */
  fast?: Closure;
  body?: Closure;
}

/** The candidates of one bucket combination, by effect, in policy order. */
export interface Candidates<R> {
  deny: readonly Candidate<R>[];
  review: readonly Candidate<R>[];
  allow: readonly Candidate<R>[];
}

/** A candidate rule and the guards the index did not already settle. */
export interface Candidate<R> {
  rule: R;
  /** Guards on fields the index does not cover, judged per request. */
  residual: readonly Guard[];
  /** True when the bucket proves every indexed guard of the rule holds. */
  proven: boolean;
  /**
   * When there are no residual guards, the closure to run, chosen once for the bucket: the
   * body when every guard is proven, else the whole rule (undefined: cel-js decides).
   */
  run?: Closure;
}

/**
 * Request fields are read as `hasOwn(r, f) ? r[f] : undefined`: the same own-property view
 * cel-js has, and much faster for absent fields, whose plain lookup walks the prototype
 * chain on V8's slow path (about 80 ns on request-shaped objects).
 */
const hasOwn = Object.hasOwn;

// Bucket ids of a field's value; guard strings get ids from FIRST_VALUE on.
const OTHER_STRING = 0;
const ABSENT = 1;
const NOT_STRING = 2;
const FIRST_VALUE = 3;
const maxIndexedFields = 5;
/**
 * Combinations are few in real traffic, but a client choosing field values can visit many
 * (each indexed field has as many buckets as the policy names values, plus three); the
 * memo is emptied when it reaches this size, so memory stays bounded.
 */
const maxMemo = 4096;

interface IndexedField {
  name: string;
  /** Bucket id of each guard value (a null-prototype table: see StringSet for why). */
  ids: Record<string, number | undefined>;
  /** Guard value of each bucket id, the reverse of `ids`. */
  values: string[];
  radix: number;
}

/**
 * RuleIndex maps a request to its candidate rules. Its memo is the only state, and it never
 * changes an answer: the same request always gets the same candidates.
 */
export class RuleIndex<R extends IndexedRule> {
  readonly #rules: readonly R[];
  readonly #fields: IndexedField[];
  readonly #memo = new Map<number, Candidates<R>>();

  constructor(rules: readonly R[]) {
    this.#rules = rules;
    const counts = new Map<string, number>();
    for (const r of rules) for (const g of r.guards) counts.set(g.field, (counts.get(g.field) ?? 0) + 1);
    const chosen = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, maxIndexedFields);
    this.#fields = chosen.map(([name]) => {
      const ids = Object.create(null) as Record<string, number | undefined>;
      const values: string[] = [];
      for (const r of rules) {
        for (const g of r.guards) {
          if (g.field !== name || !g.values) continue;
          for (const v of g.values) {
            if (ids[v] !== undefined) continue;
            ids[v] = FIRST_VALUE + values.length;
            values.push(v);
          }
        }
      }
      return { name, ids, values, radix: FIRST_VALUE + values.length };
    });
  }

  /** Names of the indexed request fields, most used first. */
  get indexedFields(): string[] {
    return this.#fields.map((f) => f.name);
  }

  /** candidates returns the rules that may match `request`; `request` must be a plain map. */
  candidates(request: Record<string, unknown>): Candidates<R> {
    const fields = this.#fields;
    let key = 0;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i] as IndexedField;
      const v = hasOwn(request, f.name) ? request[f.name] : undefined;
      const bucket = typeof v === 'string' ? (f.ids[v] ?? OTHER_STRING) : v === undefined ? ABSENT : NOT_STRING;
      key = key * f.radix + bucket;
    }
    let found = this.#memo.get(key);
    if (!found) {
      found = this.#build(key);
      if (this.#memo.size >= maxMemo) this.#memo.clear();
      this.#memo.set(key, found);
    }
    return found;
  }

  #build(key: number): Candidates<R> {
    const buckets = new Array<number>(this.#fields.length);
    for (let i = this.#fields.length - 1; i >= 0; i--) {
      const radix = (this.#fields[i] as IndexedField).radix;
      buckets[i] = key % radix;
      key = Math.floor(key / radix);
    }
    const out = { deny: [] as Candidate<R>[], review: [] as Candidate<R>[], allow: [] as Candidate<R>[] };
    for (const rule of this.#rules) {
      let verdict: GuardVerdict = PROVEN;
      const residual: Guard[] = [];
      for (const g of rule.guards) {
        const fi = this.#fields.findIndex((f) => f.name === g.field);
        if (fi === -1) {
          residual.push(g);
          continue;
        }
        const v = bucketVerdict(g, buckets[fi] as number, this.#fields[fi] as IndexedField);
        if (v === EXCLUDED) verdict = EXCLUDED;
        else if (v === UNKNOWN && verdict === PROVEN) verdict = UNKNOWN;
      }
      if (verdict === EXCLUDED) continue;
      const proven = verdict === PROVEN;
      const run = residual.length === 0 ? (proven ? rule.body : rule.fast) : undefined;
      out[rule.effect].push({ rule, residual, proven, run }); // one shape for every candidate
    }
    return out;
  }
}

/** bucketVerdict judges a guard for every value in a bucket at once. */
function bucketVerdict(g: Guard, bucket: number, field: IndexedField): GuardVerdict {
  switch (bucket) {
    case ABSENT:
      return judgeGuard(g, undefined);
    case NOT_STRING:
      // Whether `has()` holds depends on the value being one cel-js accepts: judged per rule.
      return UNKNOWN;
    case OTHER_STRING:
      return g.values ? EXCLUDED : PROVEN;
    default:
      return judgeGuard(g, field.values[bucket - FIRST_VALUE]);
  }
}

/** checkResidual judges a candidate's residual guards against `request`. */
export function checkResidual(residual: readonly Guard[], request: Record<string, unknown>): GuardVerdict {
  let result: GuardVerdict = PROVEN;
  for (let i = 0; i < residual.length; i++) {
    const g = residual[i] as Guard;
    const v = judgeGuard(g, hasOwn(request, g.field) ? request[g.field] : undefined);
    if (v === EXCLUDED) return EXCLUDED;
    if (v === UNKNOWN) result = UNKNOWN;
  }
  return result;
}

/** residualExcludes reports whether a residual guard proves the rule false for `request`. */
export function residualExcludes(residual: readonly Guard[], request: Record<string, unknown>): boolean {
  return checkResidual(residual, request) === EXCLUDED;
}
