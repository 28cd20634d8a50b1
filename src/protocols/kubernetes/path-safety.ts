/**
 * Path safety: refuse request targets that two honest parsers could read differently.
 *
 * Why: policy judges airlock's reading of the path and the apiserver executes its own. Go
 * decodes the path before it splits it (`pods/a%2Fb` is pod `a`, subresource `b`), other
 * intermediaries normalise `..`, collapse `//`, strip `;params`, decode twice or treat `\` as
 * `/`. Rather than guess which reading wins, airlock accepts only targets whose reading is the
 * same for all of them and refuses the rest (the caller answers 400 and never forwards).
 *
 * The canonical form accepted (decisions, each a row in `path-safety.bypass.test.ts`):
 * - the path starts with `/`; its raw characters are RFC 3986 `pchar`s or `/`, except `;`
 *   (matrix parameters, stripped by some servers) and `+` (a space to form decoders; `%2B` is
 *   fine), and never `\`, `#`, controls or raw non-ASCII;
 * - `%XX` uses upper-case hex, and encodes only what needs it: an encoded unreserved character
 *   (`%41`, `%2E`, `%7E`) is non-canonical; encoded `/` and `\` split differently per parser;
 *   encoded `%`, `?` and `#` re-read as a new escape, query or fragment when decoded twice;
 *   encoded controls are never a name;
 * - the decoded path is ASCII. Kubernetes names are ASCII, so non-ASCII can only be a proxy
 *   sub-path or a trick: overlong or invalid UTF-8, fullwidth `／` that a normaliser turns into
 *   `/`, homoglyphs or bidi overrides that show an approver a different name;
 * - no empty segment (`//`) and no `.` or `..` segment; one trailing `/` is allowed, since the
 *   apiserver trims it;
 * - the query (after the first `?`) has no raw space, control or non-ASCII character, no `#`,
 *   no `;` (Go drops such pairs silently), no bad escape (Go drops such pairs) and decodes to
 *   UTF-8.
 *
 * Pure: no I/O.
 */
import { decodeUtf8, percentDecode, splitTarget } from './go-url.js';

/** PathRule names which rule refused a target; stable, for tests, metrics and the ledger. */
export type PathRule =
  | 'not-absolute'
  | 'control-character'
  | 'raw-non-ascii'
  | 'backslash'
  | 'fragment'
  | 'semicolon'
  | 'invalid-character'
  | 'invalid-percent-encoding'
  | 'lowercase-percent-encoding'
  | 'encoded-separator'
  | 'encoded-delimiter'
  | 'encoded-unreserved'
  | 'non-ascii'
  | 'invalid-utf8'
  | 'empty-segment'
  | 'dot-segment';

export type PathCheck = { ok: true; decodedPath: string } | { ok: false; rule: PathRule; reason: string };

const refuse = (rule: PathRule, reason: string): PathCheck => ({ ok: false, rule, reason });

/** RFC 3986 `pchar` minus `%` (checked separately), `;` and `+` (a space to form decoders), plus `/`. */
const PATH_CHARS = new Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*,=:@/%");
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** rawCharacterRule classifies one raw character that may not appear in a target. */
function rawCharacterRule(c: string, inQuery: boolean): PathCheck | undefined {
  const code = c.charCodeAt(0);
  if (code < 0x20 || code === 0x7f) return refuse('control-character', 'the request target holds a control character');
  if (code > 0x7e) return refuse('raw-non-ascii', 'the request target holds a raw non-ASCII character; percent-encode it');
  if (c === '#') return refuse('fragment', 'the request target holds "#", which some parsers read as a fragment');
  if (c === ';') return refuse('semicolon', 'the request target holds ";", which some servers strip or split on');
  if (c === ' ') return refuse('invalid-character', 'the request target holds a raw space, which WHATWG parsers trim; send "%20"');
  if (inQuery) return undefined;
  if (c === '\\') return refuse('backslash', 'the request path holds "\\", which some parsers read as "/"');
  if (c === '+') return refuse('invalid-character', 'the request path holds "+", which form decoders read as a space; send "%2B"');
  if (!PATH_CHARS.has(c)) return refuse('invalid-character', `the request path holds "${c}", which must be percent-encoded`);
  return undefined;
}

/** escapeRule judges one `%XX` escape in the path (the query only needs it well-formed). */
function escapeRule(hex: string): PathCheck | undefined {
  const byte = Number.parseInt(hex, 16);
  const c = String.fromCharCode(byte);
  if (c === '/' || c === '\\') return refuse('encoded-separator', `"%${hex}" encodes a path separator, which parsers split differently`);
  if (c === '%' || c === '?' || c === '#') return refuse('encoded-delimiter', `"%${hex}" encodes "${c}", which reads differently when decoded twice`);
  if (byte < 0x20 || byte === 0x7f) return refuse('control-character', `"%${hex}" encodes a control character`);
  if (byte > 0x7f) return refuse('non-ascii', `"%${hex}" encodes a non-ASCII byte; Kubernetes paths are ASCII`);
  if (UNRESERVED.test(c)) return refuse('encoded-unreserved', `"%${hex}" encodes "${c}", which must be sent unencoded`);
  if (hex !== hex.toUpperCase()) return refuse('lowercase-percent-encoding', `"%${hex}" must use upper-case hex digits`);
  return undefined;
}

/** scanRaw walks the raw text once, checking characters and escapes. */
function scanRaw(text: string, inQuery: boolean): PathCheck | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    const bad = rawCharacterRule(c, inQuery);
    if (bad) return bad;
    if (c !== '%') continue;
    const hex = text.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return refuse('invalid-percent-encoding', 'the request target has a "%" not followed by two hex digits');
    if (!inQuery) {
      const escape = escapeRule(hex);
      if (escape) return escape;
    }
    i += 2;
  }
  return undefined;
}

/** checkSegments refuses empty and dot segments in a decoded path (one trailing `/` allowed). */
function checkSegments(decoded: string): PathCheck | undefined {
  const segments = decoded.slice(1).split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === '' && i < segments.length - 1) return refuse('empty-segment', 'the request path has an empty segment ("//")');
    if (segment === '.' || segment === '..') return refuse('dot-segment', 'the request path has a "." or ".." segment');
  }
  return undefined;
}

/** checkQuery applies the query rules; every pair must decode as Go would keep it. */
function checkQuery(rawQuery: string): PathCheck | undefined {
  const bad = scanRaw(rawQuery, true);
  if (bad) return bad;
  for (const pair of rawQuery.split('&')) {
    for (const part of pair.split('=')) {
      if (!part.includes('%')) continue; // raw text is ASCII here, so it is UTF-8
      const bytes = percentDecode(part, true);
      if (!bytes || decodeUtf8(bytes, true) === undefined) return refuse('invalid-utf8', 'the query does not decode to UTF-8');
    }
  }
  return undefined;
}

/**
 * checkPath accepts a raw request target (a path, optionally followed by `?query`) only in the
 * canonical form described above, and returns the decoded path (Go's `URL.Path`). Otherwise it
 * returns `ok: false` with the rule and a reason the caller can show; nothing is normalised.
 *
 * @example
 * checkPath('/api/v1/namespaces/default/pods/a%2Fb')
 * // → { ok: false, rule: 'encoded-separator', reason: '"%2F" encodes a path separator, …' }
 */
export function checkPath(rawPath: string): PathCheck {
  const { rawPath: path, rawQuery } = splitTarget(rawPath);
  if (!path.startsWith('/')) return refuse('not-absolute', 'the request path must start with "/"');
  const bad = scanRaw(path, false);
  if (bad) return bad;
  // Every escape left is an ASCII byte, so the decoded path is ASCII and always decodes.
  const bytes = percentDecode(path, false);
  const decoded = bytes && decodeUtf8(bytes, true);
  if (decoded === undefined) return refuse('invalid-percent-encoding', 'the request path does not decode');
  const segments = checkSegments(decoded);
  if (segments) return segments;
  if (rawPath.includes('?')) {
    const query = checkQuery(rawQuery);
    if (query) return query;
  }
  return { ok: true, decodedPath: decoded };
}
