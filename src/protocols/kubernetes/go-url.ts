/**
 * Go `net/url` and `strconv` behaviour that the Kubernetes apiserver relies on, re-implemented
 * so airlock reads a request target byte for byte as the apiserver (a Go program) does.
 *
 * Why not WHATWG `URL` / `URLSearchParams`: `pathname` keeps `%2F` encoded, `#` starts a
 * fragment, invalid escapes are kept as literal text, and a pair holding `;` is kept. Go
 * decodes the path before routing, has no fragment in a request target, and silently drops
 * query pairs with a bad escape or a `;`. Each difference is a place where a gateway and the
 * apiserver could disagree about what was asked (reference `kubernetes-api.md` §1.3).
 *
 * Pure: no I/O. Never throws; callers decide what an undecodable input means.
 */

/** GoQuery is Go's `url.Values`: every key with its values in request order. */
export type GoQuery = ReadonlyMap<string, readonly string[]>;

/**
 * splitTarget splits a request target at the first `?`, as Go's `url.ParseRequestURI` does.
 * A `#` is data here: a request target carries no fragment, so Go keeps it in the path or query.
 */
export function splitTarget(target: string): { rawPath: string; rawQuery: string } {
  const q = target.indexOf('?');
  if (q < 0) return { rawPath: target, rawQuery: '' };
  return { rawPath: target.slice(0, q), rawQuery: target.slice(q + 1) };
}

/** hasControlCharacter reports the characters Go's URL parser refuses in a request target (CTL: < 0x20 and 0x7f). */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/**
 * percentDecode decodes `%XX` escapes to bytes as Go's `url.unescape` does; with `plusAsSpace`
 * (query components) `+` becomes a space. Other characters are taken as UTF-8 text. Returns
 * undefined for a `%` not followed by two hex digits (Go: `EscapeError`).
 */
export function percentDecode(text: string, plusAsSpace: boolean): Uint8Array | undefined {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      const hi = i + 2 < text.length ? hexValue(text.charCodeAt(i + 1)) : -1;
      const lo = hi >= 0 ? hexValue(text.charCodeAt(i + 2)) : -1;
      if (lo < 0) return undefined;
      out.push(hi * 16 + lo);
      i += 2;
    } else if (c === 0x2b && plusAsSpace) {
      out.push(0x20);
    } else if (c < 0x80) {
      out.push(c);
    } else {
      const cp = text.codePointAt(i) ?? c;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out.push(b);
    }
  }
  return Uint8Array.from(out);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** decodeUtf8 turns bytes into text; strict mode returns undefined for invalid UTF-8 instead of U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, strict: boolean): string | undefined {
  if (!strict) return lenientUtf8.decode(bytes);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** decodeComponent is Go's `QueryUnescape` as text; undefined for a bad escape. */
function decodeComponent(raw: string): string | undefined {
  if (!/[%+]/.test(raw)) return raw; // nothing to decode: the common case
  const bytes = percentDecode(raw, true);
  return bytes && decodeUtf8(bytes, false);
}

/**
 * parseGoQuery parses a raw query exactly as Go's `url.ParseQuery` (which `URL.Query()` uses,
 * ignoring its error): pairs split on `&`; a pair containing `;` is dropped (Go ≥ 1.17); a pair
 * whose key or value has a bad escape is dropped; `+` is a space; the first `=` splits key from
 * value. Values that are not valid UTF-8 are decoded with U+FFFD (checkPath refuses them first).
 */
export function parseGoQuery(rawQuery: string): GoQuery {
  const values = new Map<string, string[]>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    const k = decodeComponent(rawKey);
    const v = decodeComponent(rawValue);
    if (k === undefined || v === undefined) continue;
    const list = values.get(k);
    if (list) list.push(v);
    else values.set(k, [v]);
  }
  return values;
}

/** firstValue is Go's `values[key][0]` guarded by `len(values) > 0`. */
export function firstValue(query: GoQuery, key: string): string | undefined {
  return query.get(key)?.[0];
}

/**
 * goBool is `Convert_Slice_string_To_bool`: absent is false; otherwise only the first value
 * counts, and anything but `0` or a case-insensitive `false` is true, the empty string included.
 */
export function goBool(values: readonly string[] | undefined): boolean {
  const first = values?.[0];
  if (first === undefined) return false;
  return !(first === '0' || first.toLowerCase() === 'false');
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** isGoInt64 is `strconv.ParseInt(s, 10, 64) == nil`: optional sign, ASCII digits, in range. */
export function isGoInt64(text: string): boolean {
  if (!/^[+-]?[0-9]+$/.test(text)) return false;
  const n = BigInt(text);
  return n >= INT64_MIN && n <= INT64_MAX;
}

/** compareGoStrings orders strings as Go's `<` does: by their UTF-8 bytes (code point order). */
export function compareGoStrings(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
