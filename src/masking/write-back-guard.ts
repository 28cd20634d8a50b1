/**
 * The write-back guard: finds masked placeholders (and the `airlock.dev/masked` annotation) in
 * a request body, so the gateway refuses the write with a 400 instead of letting the
 * placeholder overwrite the real value in the cluster.
 *
 * The hazard (reference §2.7): `kubectl get secret x -o yaml > f && kubectl replace -f f`,
 * `kubectl apply -f f`, or `kubectl edit` of a masked value would store the placeholder.
 * Every way a placeholder can travel back is covered by walking the whole parsed body, not
 * only `data`: base64 in `data`, clear text in `stringData`, JSON Patch `value`s, merge and
 * strategic-merge patches, server-side-apply documents (YAML parsed by the caller, or JSON),
 * the manifest inside the last-applied annotation, and base64 of base64 (a placeholder pasted
 * into `--from-literal`). The marker annotation on an incoming object counts too: it says the
 * object came from a masked read, even when its values were edited. Setting the annotation to
 * null, or removing it with a JSON Patch, is allowed: that is how a user says "these are real".
 * Bodies that cannot be parsed (protobuf, CBOR) are scanned as bytes.
 *
 * Boundaries: pure; reads the body, never changes it.
 */
import { AirlockError } from '../errors.js';
import { containsMarker, containsMarkerBytes, MASKED_ANNOTATION } from './placeholder.js';
import { isRecord } from './secret-object.js';

/** Past this nesting a body is reported rather than walked: no stack to exhaust, fail closed. */
const MAX_DEPTH = 256;

const markerPointerSuffix = '/' + MASKED_ANNOTATION.replaceAll('~', '~0').replaceAll('/', '~1');
const valueOps = new Set(['add', 'replace', 'test']);

/**
 * findMaskedPlaceholders returns the JSON paths (`$.data.password`,
 * `$[0].value`, `$.metadata.annotations["airlock.dev/masked"]`) where `body` carries a masked
 * placeholder or the masked marker; an empty array means the write is clean.
 *
 * @example
 * const paths = findMaskedPlaceholders(JSON.parse(body));
 * if (paths.length > 0) throw placeholderWriteError(paths);
 */
export function findMaskedPlaceholders(body: unknown): string[] {
  const found: string[] = [];
  walk(body, '$', found, 0);
  return found;
}

/** bytesCarryPlaceholder scans an unparsed body (protobuf, CBOR, broken YAML) for a placeholder. */
export function bytesCarryPlaceholder(bytes: Uint8Array): boolean {
  return containsMarkerBytes(bytes);
}

/**
 * placeholderWriteError builds the 400 the gateway returns: it names where placeholders were
 * found (key names, never values) and says how to write real values.
 */
export function placeholderWriteError(paths: readonly string[]): AirlockError {
  const shown = paths.slice(0, 5).join(', ') + (paths.length > 5 ? ` and ${paths.length - 5} more` : '');
  return new AirlockError(
    'AIRLOCK_MASK_PLACEHOLDER_WRITE',
    `masked placeholders or the ${MASKED_ANNOTATION} marker at ${shown || 'the request body'}; put the real values in data or stringData, ` +
      `remove the ${MASKED_ANNOTATION} annotation, or patch only the keys you change`,
    { details: { paths: [...paths] } },
  );
}

function walk(value: unknown, path: string, found: string[], depth: number): void {
  if (depth > MAX_DEPTH) {
    found.push(path);
    return;
  }
  if (typeof value === 'string') {
    walkString(value, path, found, depth);
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => walk(item, `${path}[${index}]`, found, depth + 1));
  } else if (isRecord(value)) {
    if (isMarkerPatchOperation(value)) found.push(`${path}.path`);
    for (const [key, child] of Object.entries(value)) {
      const childPath = pathOf(path, key);
      if (key === MASKED_ANNOTATION && child !== null) found.push(childPath);
      else walk(child, childPath, found, depth + 1);
    }
  }
}

/** walkString looks inside JSON text (the last-applied manifest) for precise paths first. */
function walkString(text: string, path: string, found: string[], depth: number): void {
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    let inner: unknown;
    try {
      inner = JSON.parse(text);
    } catch {
      inner = undefined;
    }
    if (inner !== undefined) {
      const before = found.length;
      walk(inner, path, found, depth + 1);
      if (found.length > before) return;
    }
  }
  if (containsMarker(text)) found.push(path);
}

/** isMarkerPatchOperation catches a JSON Patch op that writes the marker annotation by path. */
function isMarkerPatchOperation(op: Record<string, unknown>): boolean {
  return (
    typeof op.op === 'string' &&
    valueOps.has(op.op) &&
    typeof op.path === 'string' &&
    op.path.endsWith(markerPointerSuffix) &&
    op.value !== null
  );
}

function pathOf(parent: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}
