/**
 * The ledger's copy of an API body that is not a Secret's: credentials an object carries in the
 * clear — a ConfigMap key `DB_PASSWORD`, a container's `env` literal, a token in an annotation
 * or a custom resource, a database URL with its password — are masked with the stream
 * detectors before the copy is stored. The caller still gets the body as the cluster sent it
 * (its RBAC allowed the read, and a write must reach the cluster as written); only what airlock
 * keeps is masked, so the ledger never holds the clear value.
 *
 * JSON stays the JSON it was: each string is scanned with its key as context (`DB_PASSWORD=…`),
 * a Kubernetes EnvVar `{name, value}` as `name=value`, JSON kept in a string (the
 * last-applied-configuration annotation) as an object, and a range found is replaced inside the
 * decoded string before the object is serialised again, so an escape sequence is never cut. A
 * pass over the whole text first lets a body with nothing to mask — nearly all of them — through
 * without being parsed. Text that is not JSON (a truncated copy, a plain-text answer) is masked
 * as text.
 */
import type { Detector, Finding } from './detectors/detector.js';
import { createStreamMasker } from './stream-masker.js';

const replacement = (kind: string): string => `[masked ${kind}]`;

/**
 * An EnvVar whose name says it holds a credential: its value is not next to the name in the
 * text. The quotes may be escaped (JSON kept in a string, as in the last-applied annotation).
 */
const CREDENTIAL_ENV_NAME = /\\?"name\\?"\s*:\s*\\?"[^"\\]*(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|auth)/i;

/** maskRecordedText masks text (or bytes of text) as the stream masker does, in one pass. */
export function maskRecordedText(bytes: Uint8Array, detectors: readonly Detector[]): Buffer {
  const masker = createStreamMasker({ detectors, replacement });
  const head = masker.push(bytes);
  const tail = masker.flush();
  return tail.length === 0 ? head : Buffer.concat([head, tail]);
}

/**
 * maskRecordedJson returns `text` with the credentials in its strings masked, as JSON; `text`
 * itself when there is nothing to mask; masked as plain text when it is not JSON.
 */
export function maskRecordedJson(text: string, detectors: readonly Detector[]): string {
  if (detectors.length === 0) return text;
  const found = detectors.some((d) => d.find(text).length > 0);
  if (!found && !CREDENTIAL_ENV_NAME.test(text)) return text;
  let parsed: unknown;
  try {
    // The walk below recurses: an answer nested deeper than objects are is masked as text instead.
    if (nestsDeeperThan(text, MAX_WALK_DEPTH)) throw new Error('too deep to walk');
    parsed = JSON.parse(text);
  } catch {
    return maskRecordedText(Buffer.from(text, 'utf8'), detectors).toString('utf8');
  }
  return JSON.stringify(maskValue(parsed, '', detectors));
}

/** How deep maskValue walks; deeper JSON is masked as text (no recursion, no stack to exhaust). */
const MAX_WALK_DEPTH = 256;

/**
 * nestsDeeperThan: more than `limit` brackets (`{`, `[`) open at once, counted inside strings too
 * (which only errs on the safe side, and which YAML's other quoting rules cannot steer). One
 * pass, no recursion: the check to make before anything recursive reads JSON or YAML.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if ((c === 0x7d || c === 0x5d) && depth > 0) {
      depth--;
    }
  }
  return false;
}

function maskValue(value: unknown, key: string, detectors: readonly Detector[]): unknown {
  if (typeof value === 'string') {
    // JSON kept in a string (kubectl's last-applied-configuration annotation) is an object too.
    const inner = value.startsWith('{') || value.startsWith('[') ? maskRecordedJson(value, detectors) : value;
    return maskString(inner, key, detectors);
  }
  if (Array.isArray(value)) return value.map((item) => maskValue(item, key, detectors));
  if (typeof value !== 'object' || value === null) return value;
  const object = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  // An EnvVar: the value's context is the variable's name, not the key `value`.
  const envName = typeof object.name === 'string' && typeof object.value === 'string' ? object.name : undefined;
  for (const [k, v] of Object.entries(object)) {
    out[k] = k === 'value' && envName !== undefined ? maskString(v as string, envName, detectors) : maskValue(v, k, detectors);
  }
  return out;
}

/** maskString masks the ranges the detectors find in `key=value` that fall in the value. */
function maskString(value: string, key: string, detectors: readonly Detector[]): string {
  const prefix = key === '' ? '' : `${key}=`;
  const text = prefix + value;
  const ranges: Finding[] = [];
  for (const d of detectors) {
    for (const f of d.find(text)) {
      if (f.end > prefix.length) ranges.push({ start: Math.max(f.start, prefix.length) - prefix.length, end: f.end - prefix.length, kind: f.kind });
    }
  }
  if (ranges.length === 0) return value;
  ranges.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let cursor = 0;
  for (const r of ranges) {
    // An overlapping range joins the one before it.
    if (r.start < cursor) {
      cursor = Math.max(cursor, r.end);
      continue;
    }
    out += value.slice(cursor, r.start) + replacement(r.kind);
    cursor = r.end;
  }
  return out + value.slice(cursor);
}

/**
 * maskRecordedLines masks a chunk of newline-delimited JSON (a watch stream) line by line, each
 * line as JSON; a line cut by the chunk's end is masked as text.
 */
export function maskRecordedLines(bytes: Buffer, detectors: readonly Detector[]): Buffer {
  const text = bytes.toString('utf8');
  const lines = text.split('\n');
  let changed = false;
  const masked = lines.map((line) => {
    if (line === '') return line;
    const out = maskRecordedJson(line, detectors);
    if (out !== line) changed = true;
    return out;
  });
  return changed ? Buffer.from(masked.join('\n'), 'utf8') : bytes;
}
