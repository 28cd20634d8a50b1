/**
 * Secret masking for Kubernetes JSON: the public surface of `src/masking/`.
 *
 * - Responses: `createSecretMaskStream` (a Transform) or `createSecretMasker` (push/flush)
 *   mask every Secret value in a get, list page, Table, PartialObjectMetadata(List), watch
 *   stream or write echo, with memory bounded by one object.
 * - Writes: `findMaskedPlaceholders` (+ `placeholderWriteError`, `bytesCarryPlaceholder`)
 *   refuses a body that would write a placeholder back; `maskSecretWriteBody` masks the copy of
 *   a write body that is recorded.
 * - Placeholders: `createPlaceholder(maskKey)`; the key is per installation.
 * - Records: `maskRecordedJson` / `maskRecordedText` mask the credentials other objects carry in
 *   the clear (ConfigMap keys, env literals) in the copy the ledger keeps.
 *
 * Who may see clear values is a policy decision (MaskPlan `secrets: 'clear'`): the caller then
 * skips masking, and the ledger entry records the decision that allowed it.
 *
 * Nothing here imports a protocol adapter; the Kubernetes adapter decides when to call it.
 */
export {
  createSecretMaskStream,
  createSecretMasker,
  DEFAULT_MAX_OBJECT_BYTES,
  type SecretMaskOptions,
  type SecretMaskShape,
  type SecretMasker,
} from './secret-mask-stream.js';
export {
  createPlaceholder,
  LAST_APPLIED_ANNOTATION,
  MASKED_ANNOTATION,
  PLACEHOLDER_PREFIX,
  type Placeholder,
} from './placeholder.js';
export { MASKED_ANNOTATION_VALUE } from './secret-object.js';
export { bytesCarryPlaceholder, findMaskedPlaceholders, placeholderWriteError } from './write-back-guard.js';
export { maskSecretWriteBody } from './write-body.js';
export { maskRecordedJson, maskRecordedLines, maskRecordedText, nestsDeeperThan } from './recorded-body.js';
