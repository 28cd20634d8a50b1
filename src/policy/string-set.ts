/**
 * StringSet is a read-only set of strings for the hot path. Lookups go through a
 * null-prototype object rather than a `Set`: on V8 a keyed load there is about twice as fast
 * as `Set.prototype.has` for the short strings policies compare (verbs, resources, names),
 * and a null prototype means keys such as `__proto__` or `constructor` are ordinary keys.
 */
export class StringSet implements Iterable<string> {
  readonly #table: Record<string, true | undefined> = Object.create(null) as Record<string, true | undefined>;
  readonly #values: string[] = [];

  constructor(values: Iterable<string>) {
    for (const v of values) {
      if (this.#table[v] === true) continue;
      this.#table[v] = true;
      this.#values.push(v);
    }
  }

  /** has reports whether `s` is in the set. */
  has(s: string): boolean {
    return this.#table[s] === true;
  }

  get size(): number {
    return this.#values.length;
  }

  [Symbol.iterator](): Iterator<string> {
    return this.#values[Symbol.iterator]();
  }
}
