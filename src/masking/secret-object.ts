/**
 * Masking of one Secret-shaped object: a Secret, a PartialObjectMetadata of a Secret, a Secret
 * patch, or the manifest inside the last-applied annotation.
 *
 * What is replaced (Kubernetes reference §2.7): every value of `data` (base64 on the wire) and
 * of `stringData` (clear text, write-only, so only in requests and in last-applied manifests),
 * and the `kubectl.kubernetes.io/last-applied-configuration` annotation, which holds the whole
 * applied manifest and survives even in metadata-only answers. Key names, `type`, labels and
 * every other field stay as they are: an agent still sees what a Secret holds, not the values.
 * `managedFields` lists field paths only (`f:data: {f:key: {}}`), so it is left alone.
 *
 * Boundaries: mutates the object it is given (callers pass freshly parsed JSON or a copy);
 * knows nothing of streams or HTTP.
 */
import { LAST_APPLIED_ANNOTATION, MASKED_ANNOTATION, type Placeholder } from './placeholder.js';

/** MASKED_ANNOTATION_VALUE is what a masked object's marker annotation says was masked. */
export const MASKED_ANNOTATION_VALUE = 'data';

export type JsonRecord = Record<string, unknown>;

/** isRecord narrows a parsed JSON value to a plain object. */
export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Options for maskSecretObject. */
export interface SecretObjectMasking {
  placeholder: Placeholder;
  /** mark adds the `airlock.dev/masked` annotation when something was masked (responses, not recordings). */
  mark: boolean;
  /** patch keeps strategic-merge directives (`$patch`) in request bodies. */
  patch?: boolean;
}

/**
 * maskSecretObject masks `data`, `stringData` and the last-applied annotation of `obj` in place
 * and reports whether anything changed. It never throws: values of an unexpected type are
 * masked too (as their JSON text), because a value that is not understood is not shown.
 */
export function maskSecretObject(obj: JsonRecord, options: SecretObjectMasking): boolean {
  let changed = maskSecretValues(obj, options.placeholder, options.patch);
  const metadata = obj.metadata;
  if (isRecord(metadata) && isRecord(metadata.annotations)) {
    changed = maskLastAppliedIn(metadata.annotations, options.placeholder) || changed;
  }
  if (changed && options.mark) markMasked(obj);
  return changed;
}

/**
 * maskSecretValues replaces every non-null value of `data` (with base64 placeholders) and of
 * `stringData` (with clear-text placeholders). A null stays null: in a patch it deletes a key
 * and reveals nothing. In a patch (`patch`), strategic-merge directives such as `$patch` are
 * kept: Secret keys cannot start with `$`, so such a key is a directive, not a value.
 */
export function maskSecretValues(obj: JsonRecord, placeholder: Placeholder, patch = false): boolean {
  let changed = false;
  const { data, stringData } = obj;
  if (isRecord(data)) {
    for (const [key, value] of Object.entries(data)) {
      if (value === null || (patch && isPatchDirective(key))) continue;
      data[key] = placeholder.base64(key, asText(value));
      changed = true;
    }
  } else if (data !== undefined && data !== null) {
    obj.data = placeholder.base64('data', asText(data));
    changed = true;
  }
  if (isRecord(stringData)) {
    for (const [key, value] of Object.entries(stringData)) {
      if (value === null || (patch && isPatchDirective(key))) continue;
      stringData[key] = placeholder.marker(key, asText(value));
      changed = true;
    }
  } else if (stringData !== undefined && stringData !== null) {
    obj.stringData = placeholder.marker('stringData', asText(stringData));
    changed = true;
  }
  return changed;
}

/** maskLastAppliedIn masks the last-applied annotation of an annotations map, if present. */
export function maskLastAppliedIn(annotations: JsonRecord, placeholder: Placeholder): boolean {
  const value = annotations[LAST_APPLIED_ANNOTATION];
  if (value === undefined || value === null) return false;
  const masked = maskLastApplied(value, placeholder);
  if (masked === value) return false;
  annotations[LAST_APPLIED_ANNOTATION] = masked;
  return true;
}

/**
 * maskLastApplied masks the values inside a last-applied manifest and keeps the rest, so
 * `kubectl apply` diffs still make sense. A manifest that does not parse as a JSON object is
 * replaced whole: its content cannot be told apart from a value.
 */
export function maskLastApplied(value: unknown, placeholder: Placeholder): unknown {
  if (typeof value !== 'string') return placeholder.marker(LAST_APPLIED_ANNOTATION, asText(value));
  let manifest: unknown;
  try {
    manifest = JSON.parse(value);
  } catch {
    return placeholder.marker(LAST_APPLIED_ANNOTATION, value);
  }
  if (!isRecord(manifest)) return placeholder.marker(LAST_APPLIED_ANNOTATION, value);
  if (!maskSecretValues(manifest, placeholder)) return value;
  // kubectl writes the manifest with a trailing newline; keep it so the annotation looks native.
  return JSON.stringify(manifest) + (value.endsWith('\n') ? '\n' : '');
}

/** markMasked adds `airlock.dev/masked: data`, creating metadata and annotations if needed. */
export function markMasked(obj: JsonRecord): void {
  let metadata = obj.metadata;
  if (!isRecord(metadata)) {
    metadata = {};
    obj.metadata = metadata;
  }
  const meta = metadata as JsonRecord;
  let annotations = meta.annotations;
  if (!isRecord(annotations)) {
    annotations = {};
    meta.annotations = annotations;
  }
  (annotations as JsonRecord)[MASKED_ANNOTATION] = MASKED_ANNOTATION_VALUE;
}

function isPatchDirective(key: string): boolean {
  return key.startsWith('$');
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? '';
}
