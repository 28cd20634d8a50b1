/**
 * The detector registry: a masking rule names detectors (`secretlint`, `jwt`, `private-key`,
 * `pii`) and gets the instances here. An unknown name is a configuration error at load time,
 * never a silently skipped detector.
 */
import { AirlockError } from '../../errors.js';
import type { Detector } from './detector.js';
import { jwtDetector } from './jwt-detector.js';
import { piiDetector } from './pii-detector.js';
import { privateKeyDetector } from './private-key-detector.js';
import { secretPatternsDetector } from './secret-patterns-detector.js';

export const detectorRegistry: ReadonlyMap<string, Detector> = new Map<string, Detector>([
  [secretPatternsDetector.name, secretPatternsDetector],
  [jwtDetector.name, jwtDetector],
  [privateKeyDetector.name, privateKeyDetector],
  [piiDetector.name, piiDetector],
]);

/** DetectorName is a name a masking rule may list. */
export type DetectorName = 'secretlint' | 'jwt' | 'private-key' | 'pii';

/** DEFAULT_DETECTORS is what a rule gets when it says `mask: {}`: every secret, no PII. */
export const DEFAULT_DETECTORS: readonly DetectorName[] = ['secretlint', 'jwt', 'private-key'];

/**
 * selectDetectors returns the detectors for the given names, in order and without duplicates;
 * an unknown name throws AIRLOCK_CONFIG_INVALID naming the valid ones.
 */
export function selectDetectors(names: readonly string[]): Detector[] {
  const out: Detector[] = [];
  for (const name of new Set(names)) {
    const d = detectorRegistry.get(name);
    if (!d) {
      throw new AirlockError('AIRLOCK_CONFIG_INVALID', `unknown masking detector "${name}" (known: ${[...detectorRegistry.keys()].join(', ')})`);
    }
    out.push(d);
  }
  return out;
}
