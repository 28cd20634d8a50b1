/**
 * Which detectors mask one request's streams: the gateway's stream detectors (the defaults)
 * plus those the decision adds (`Decision.mask.detectors`, from the `mask` lists of the allow
 * rules that matched). Exec and attach output, the recorded copy of stdin, container logs and
 * captured port-forward bytes all use this list, and when the decision added detectors the
 * request's final ledger entry names them (`maskDetectors`).
 *
 * A policy has few distinct sets (at most one per combination of registry names), so each
 * combined list is built once per base list and set, and shared by every request that needs it.
 */
import type { ResponseRecorder } from '../../../gateway/adapter.js';
import type { Detector } from '../../../masking/detectors/detector.js';
import { selectDetectors } from '../../../masking/detectors/registry.js';
import type { Decision } from '../../../policy/decision.js';

type MaskingDecision = Pick<Decision, 'mask'> | undefined;

const combined = new WeakMap<readonly Detector[], Map<string, readonly Detector[]>>();

/**
 * requestDetectors returns `base` when the decision adds nothing, otherwise `base` followed by
 * the added detectors that `base` lacks, in a frozen list shared by every request with the same
 * set. A name the registry does not know throws AIRLOCK_CONFIG_INVALID (a compiled policy only
 * names registry detectors).
 *
 * @example
 * requestDetectors(defaults, { mask: { secrets: 'mask', detectors: ['pii'] } });
 * // [secretlint, jwt, private-key, pii]: the same array for every such decision
 */
export function requestDetectors(base: readonly Detector[], decision: MaskingDecision): readonly Detector[] {
  const added = decision?.mask?.detectors;
  if (added === undefined || added.length === 0) return base;
  const key = [...added].sort().join(',');
  let sets = combined.get(base);
  if (sets === undefined) {
    sets = new Map();
    combined.set(base, sets);
  }
  let list = sets.get(key);
  if (list === undefined) {
    const have = new Set(base.map((d) => d.name));
    list = Object.freeze([...base, ...selectDetectors(added.filter((name) => !have.has(name)))]);
    sets.set(key, list);
  }
  return list;
}

/**
 * noteMaskDetectors returns a recorder that adds `maskDetectors` (the names of `detectors`, in
 * order) to the request's `response` entry when the decision added detectors, so the ledger
 * shows what this caller's output was masked with; otherwise it returns `record` itself.
 */
export function noteMaskDetectors(record: ResponseRecorder, detectors: readonly Detector[], decision: MaskingDecision): ResponseRecorder {
  if (!decision?.mask?.detectors?.length) return record;
  const maskDetectors = detectors.map((d) => d.name);
  return {
    response: ({ data, ...rest }) => record.response({ ...rest, data: { ...data, maskDetectors } }),
    stream: (part) => record.stream(part),
  };
}
