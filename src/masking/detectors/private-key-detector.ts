/**
 * The private-key detector: PEM blocks of any private key kind (`RSA`, `EC`, `OPENSSH`,
 * `ENCRYPTED`, PKCS#8), across lines, including the escaped form inside JSON (`\n` as two
 * characters) that GCP service-account files carry. A BEGIN with no END yet is a pending
 * candidate; at the end of the stream it is masked to the end (fail closed).
 */
import { buildTriggerHold, endAnchoredHold, literalTrigger, type Detector, type Finding, type Trigger } from './detector.js';

const BEGIN = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----/g;
const DASHES = buildTriggerHold(['-----BEGIN']);
// The header has blanks (`BEGIN RSA PRIVATE KEY`), so a token hold alone would release it.
const HEADER = endAnchoredHold(/-----BEGIN(?: [A-Z0-9 ]*)?-{0,5}$/);

function findPem(text: string, toEndIfOpen: boolean): Finding[] {
  const out: Finding[] = [];
  BEGIN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = BEGIN.exec(text)) !== null) {
    const endMarker = `-----END ${m[1] ?? ''}-----`;
    const endAt = text.indexOf(endMarker, m.index);
    if (endAt < 0) {
      if (toEndIfOpen) out.push({ start: m.index, end: text.length, kind: 'private-key' });
      break;
    }
    out.push({ start: m.index, end: endAt + endMarker.length, kind: 'private-key' });
    BEGIN.lastIndex = endAt + endMarker.length;
  }
  return out;
}

/**
 * pemDetector returns the PEM detector; with a trigger (a literal every header contains), text
 * without it skips the scans. Exported for the tests, which run it without one.
 */
export function pemDetector(trigger?: Trigger): Detector {
  return {
    name: 'private-key',
    find: (text) => (!trigger || trigger.test(text) ? findPem(text, true) : []),
    pendingStart(text) {
      // Without the trigger no block or header is open; only trailing dashes may start one.
      if (trigger && !trigger.test(text)) return DASHES(text);
      const open = findPem(text, true).find((f) => f.end === text.length);
      return Math.min(open ? open.start : text.length, DASHES(text), HEADER(text));
    },
  };
}

/** privateKeyDetector finds PEM private keys; an unterminated block is masked to the end. */
export const privateKeyDetector: Detector = pemDetector(literalTrigger(['BEGIN']));
