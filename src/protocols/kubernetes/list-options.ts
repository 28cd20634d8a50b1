/**
 * The part of the apiserver's `ListOptions` query decoding that changes RequestInfo: whether a
 * GET without a name is a `watch`, and which name `fieldSelector=metadata.name=X` selects.
 *
 * The apiserver decodes the query with `ParameterCodec.DecodeParameters`; if any field fails
 * (a label or field selector Go cannot parse, a `limit` or `timeoutSeconds` that is not an
 * int64), it discards everything but `watch`, so a name in the field selector is then ignored.
 * Reproducing that failure set exactly is what keeps airlock's `name` equal to the apiserver's.
 *
 * Pure: no I/O.
 */
import { parseFieldSelector, requiresExactMatch } from './field-selector.js';
import { firstValue, goBool, isGoInt64, type GoQuery } from './go-url.js';
import { labelSelectorError } from './label-selector.js';

/** ListOptionsView is what RequestInfo needs from a decoded `ListOptions`. */
export interface ListOptionsView {
  /** False when Go's decode failed; then only `watch` is meaningful. */
  decoded: boolean;
  watch: boolean;
  /** `RequiresExactMatch("metadata.name")` of the decoded field selector, if any. */
  exactName?: string;
  /** Why the decode failed, for diagnostics. */
  error?: string;
}

/** The int64 query fields of `metav1.ListOptions` (`limit`, `timeoutSeconds`); others cannot fail. */
const INT64_FIELDS = ['limit', 'timeoutSeconds'] as const;

/**
 * decodeListOptions mirrors `metav1.Convert_url_Values_To_v1_ListOptions` followed by the
 * conversion to the internal version (which parses both selectors). Boolean and string fields
 * never fail in Go, so only the int64 fields and the two selectors are checked.
 */
export function decodeListOptions(query: GoQuery): ListOptionsView {
  const watch = goBool(query.get('watch'));
  for (const field of INT64_FIELDS) {
    const value = firstValue(query, field);
    if (value !== undefined && !isGoInt64(value)) return { decoded: false, watch, error: `${field} is not an integer` };
  }
  const labelError = labelSelectorError(firstValue(query, 'labelSelector') ?? '');
  if (labelError !== undefined) return { decoded: false, watch, error: `labelSelector: ${labelError}` };
  const fields = parseFieldSelector(firstValue(query, 'fieldSelector') ?? '');
  if (!fields.ok) return { decoded: false, watch, error: `fieldSelector: ${fields.reason}` };
  const exactName = requiresExactMatch(fields.terms, 'metadata.name');
  return exactName === undefined ? { decoded: true, watch } : { decoded: true, watch, exactName };
}
