/**
 * Masking of one parsed Kubernetes JSON value from a secrets response, whatever its shape:
 * a Secret, a SecretList, a PartialObjectMetadata(List), a Table (rows and their objects), a
 * watch event, or a Status.
 *
 * Secrets are identified by the caller, from request info (group "", resource `secrets`), not
 * only by `kind`: items of a typed list carry no `kind`, and Tables and PartialObjectMetadata
 * never say "Secret" (reference §2.7). So in a secrets response (`assumeSecret: true`) an
 * object that names no kind, and any PartialObjectMetadata, is treated as a Secret. When the
 * caller says the response may mix kinds (`assumeSecret: false`), only objects of kind Secret
 * are masked. An object that names another kind (a Status, a ConfigMap in a generic List) is
 * left alone either way.
 *
 * Boundaries: mutates the value it is given; no I/O.
 */
import type { Placeholder } from './placeholder.js';
import { isRecord, maskLastAppliedIn, maskSecretObject, type JsonRecord } from './secret-object.js';

/** ResponseMasking says how to mask the values of one response. */
export interface ResponseMasking {
  placeholder: Placeholder;
  /** assumeSecret treats objects without a `kind`, and metadata-only objects, as Secrets. */
  assumeSecret: boolean;
}

/** itemKindOf maps a list kind to the kind its (kind-less) items have. */
export function itemKindOf(listKind: unknown): string | undefined {
  if (listKind === 'SecretList') return 'Secret';
  if (listKind === 'PartialObjectMetadataList') return 'PartialObjectMetadata';
  return undefined;
}

/**
 * maskResponseValue masks every Secret value inside `value` in place and reports whether
 * anything changed. `impliedKind` is the kind a containing list gives its items.
 */
export function maskResponseValue(value: unknown, masking: ResponseMasking, impliedKind?: string): boolean {
  if (!isRecord(value)) return false;
  if (isWatchEvent(value)) return maskResponseValue(value.object, masking);
  const kind = typeof value.kind === 'string' ? value.kind : impliedKind;
  if (kind === 'Status') return false;
  if (kind === 'Table') return maskTable(value, masking);
  const hasItems = Array.isArray(value.items);
  // A list never has data of its own, nor a Secret items; if one does, both are masked (fail closed).
  const ownValues = isSecretKind(kind, masking) || (hasItems && ('data' in value || 'stringData' in value));
  let changed = ownValues && maskSecretObject(value, { placeholder: masking.placeholder, mark: true });
  if (hasItems) changed = maskList(value, masking, itemKindOf(kind), !ownValues) || changed;
  return changed;
}

/** maskTableRow masks the object of one Table row; the cells of a Secret table hold no values. */
export function maskTableRow(row: unknown, masking: ResponseMasking): boolean {
  if (!isRecord(row)) return false;
  return maskResponseValue(row.object, masking);
}

/**
 * maskListEnvelope masks what a list or Table carries besides its items: ListMeta has no
 * annotations in any released Kubernetes, so this is a guard, not a common path.
 */
export function maskListEnvelope(envelope: JsonRecord, masking: ResponseMasking): boolean {
  const metadata = envelope.metadata;
  if (!isRecord(metadata) || !isRecord(metadata.annotations)) return false;
  return maskLastAppliedIn(metadata.annotations, masking.placeholder);
}

/**
 * isWatchEvent recognises `{type, object}`. A Secret also has a string `type` but never an
 * `object` field, and a watch event never has a `kind`.
 */
export function isWatchEvent(value: JsonRecord): boolean {
  return typeof value.type === 'string' && isRecord(value.object) && value.kind === undefined;
}

/** isSecretKind says whether an object of this kind (undefined: none named) holds Secret values. */
export function isSecretKind(kind: string | undefined, masking: ResponseMasking): boolean {
  if (kind === 'Secret') return true;
  return masking.assumeSecret && (kind === undefined || kind === 'PartialObjectMetadata');
}

function maskTable(table: JsonRecord, masking: ResponseMasking): boolean {
  let changed = maskListEnvelope(table, masking);
  if (!Array.isArray(table.rows)) return changed;
  for (const row of table.rows) changed = maskTableRow(row, masking) || changed;
  return changed;
}

function maskList(list: JsonRecord, masking: ResponseMasking, itemKind: string | undefined, envelope: boolean): boolean {
  let changed = envelope && maskListEnvelope(list, masking);
  for (const item of list.items as unknown[]) changed = maskResponseValue(item, masking, itemKind) || changed;
  return changed;
}
