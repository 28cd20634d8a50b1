/**
 * Masking of Secret write bodies for the record: what the ledger stores of a create, update,
 * patch or apply of a Secret. The gateway forwards the original body unchanged; only the copy
 * that is recorded is masked, so the clear value never reaches the ledger.
 *
 * Bodies come in four forms (reference §2.3, §2.8), all handled here once parsed:
 * - a Secret object (POST, PUT, server-side apply as JSON or parsed YAML), or a `List` of them;
 * - a merge or strategic-merge patch: a partial Secret (`$patch` directives are harmless);
 * - a JSON Patch: an array of operations whose `value` (for add, replace and test) is masked
 *   according to where its `path` points (`/data/k`, `/data`, `/stringData/k`, the
 *   last-applied annotation, `/metadata`, or the whole document).
 * A JSON Patch `path` that is not a valid pointer has its value masked whole.
 *
 * Recorded placeholders use the same HMAC as responses, so an auditor can see that a write set
 * the value a later read returns. No marker annotation is added: the record shows the request
 * as sent. Protobuf bodies are the caller's to decode or to record as a hash (reference §2.6).
 *
 * Boundaries: never mutates its argument; no I/O.
 */
import { LAST_APPLIED_ANNOTATION, type Placeholder } from './placeholder.js';
import {
  isRecord,
  maskLastApplied,
  maskLastAppliedIn,
  maskSecretObject,
  maskSecretValues,
  type JsonRecord,
} from './secret-object.js';

/**
 * maskSecretWriteBody returns a masked copy of a parsed Secret write body (object, patch or
 * JSON Patch) for recording; it never throws and leaves `body` untouched.
 *
 * @example
 * ledger.append({ request: { body: maskSecretWriteBody(JSON.parse(raw), placeholder) } });
 */
export function maskSecretWriteBody(body: unknown, placeholder: Placeholder): unknown {
  const copy: unknown = structuredClone(body);
  if (Array.isArray(copy)) {
    for (const op of copy) maskPatchOperation(op, placeholder);
  } else if (isRecord(copy)) {
    maskWriteObject(copy, placeholder);
  } else if (typeof copy === 'string') {
    return placeholder.marker('body', copy);
  }
  return copy;
}

function maskWriteObject(obj: JsonRecord, placeholder: Placeholder): void {
  if (Array.isArray(obj.items)) {
    for (const item of obj.items) if (isRecord(item)) maskWriteObject(item, placeholder);
  }
  maskSecretObject(obj, { placeholder, mark: false, patch: true });
}

function maskPatchOperation(op: unknown, placeholder: Placeholder): void {
  if (!isRecord(op) || !('value' in op) || op.value === null) return;
  const tokens = typeof op.path === 'string' ? parsePointer(op.path) : undefined;
  op.value = tokens ? maskAtPointer(tokens, op.value, placeholder) : wholeMarker(op.value, placeholder);
}

/** maskAtPointer masks a JSON Patch value by what its target is inside a Secret. */
function maskAtPointer(tokens: string[], value: unknown, placeholder: Placeholder): unknown {
  const [first, second, third] = tokens;
  if (tokens.length === 0) {
    if (!isRecord(value)) return wholeMarker(value, placeholder);
    maskWriteObject(value, placeholder);
    return value;
  }
  if (first === 'data' || first === 'stringData') {
    if (tokens.length === 1) {
      const holder: JsonRecord = { [first]: value };
      maskSecretValues(holder, placeholder, true);
      return holder[first];
    }
    const key = second ?? '';
    const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
    return first === 'data' ? placeholder.base64(key, text) : placeholder.marker(key, text);
  }
  if (first !== 'metadata') return value;
  if (tokens.length === 1 && isRecord(value) && isRecord(value.annotations)) {
    maskLastAppliedIn(value.annotations, placeholder);
  } else if (tokens.length === 2 && second === 'annotations' && isRecord(value)) {
    maskLastAppliedIn(value, placeholder);
  } else if (tokens.length === 3 && second === 'annotations' && third === LAST_APPLIED_ANNOTATION) {
    return maskLastApplied(value, placeholder);
  }
  return value;
}

/** parsePointer splits an RFC 6901 JSON Pointer; undefined when it is not one. */
function parsePointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  const tokens = pointer.slice(1).split('/');
  if (tokens.some((t) => /~[^01]|~$/.test(t))) return undefined;
  return tokens.map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function wholeMarker(value: unknown, placeholder: Placeholder): string {
  return placeholder.marker('value', typeof value === 'string' ? value : JSON.stringify(value) ?? '');
}
