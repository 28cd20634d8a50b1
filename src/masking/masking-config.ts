/**
 * maskingConfiguration describes the masking in force, as data: what is masked where and with
 * which detectors. airlock records it in the ledger when it starts (`masking.loaded`, with its
 * hash), beside the policy, so an evidence export can show which masking rules applied at any
 * moment. Per-rule additions (`mask: [pii]`) live in the policy and are recorded with it.
 */
import { DEFAULT_HOLDBACK } from './stream-masker.js';
import { DEFAULT_DETECTORS, detectorRegistry } from './detectors/registry.js';

export interface MaskingConfiguration {
  secrets: { what: string; how: string };
  streams: { what: string; defaultDetectors: string[]; availableDetectors: string[]; holdbackBytes: number; idleFlushMs: number };
  connections: Array<{ name: string; portForwardCapture: boolean }>;
}

/** The idle pause after which held-back stream output is released (exec, attach, logs). */
export const STREAM_IDLE_FLUSH_MS = 50;

export function maskingConfiguration(connections: ReadonlyArray<{ name: string; streams: { portForwardCapture: boolean } }>): MaskingConfiguration {
  return {
    secrets: {
      what: 'Kubernetes Secret values (data, stringData, the last-applied annotation) in every response, watch event, Table and echoed write, and in the recorded copy of Secret writes',
      how: 'replaced by keyed placeholders (HMAC with the mask key in the data directory); writing a placeholder back is refused; break-glass callers (policy `unmask: [secrets]`) see clear values, the ledger never does',
    },
    streams: {
      what: 'exec and attach output, the recorded copy of stdin, container logs, and captured port-forward bytes',
      defaultDetectors: [...DEFAULT_DETECTORS],
      availableDetectors: [...detectorRegistry.keys()],
      holdbackBytes: DEFAULT_HOLDBACK,
      idleFlushMs: STREAM_IDLE_FLUSH_MS,
    },
    connections: connections.map((c) => ({ name: c.name, portForwardCapture: c.streams.portForwardCapture })),
  };
}
