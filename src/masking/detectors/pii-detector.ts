/**
 * The PII detector: e-mail addresses, phone numbers (international `+…` or North-American
 * formatted), payment card numbers that pass the Luhn check, and US SSNs. Own regexes rather
 * than @redactpii/node: its phone pattern matches any 10 digits and its card pattern has no
 * Luhn check, both of which fire on ordinary shell output (PIDs, sizes, timestamps); see
 * bench/masking-streams/README.md for the measurement.
 *
 * Streaming cost: any word may be the local part of an e-mail and any digit run the start of
 * a number, so with this detector the trailing word or number of a frame is held until a
 * separator or the caller's idle flush. Use it for logs and non-TTY output; on an interactive
 * shell it delays echo of a word until the next blank or idle flush.
 */
import { endAnchoredHold, findWithRules, type Detector, type RegexRule } from './detector.js';

/** luhnValid reports whether the digits of s pass the Luhn checksum. */
export function luhnValid(s: string): boolean {
  const digits = s.replace(/\D/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0 && !/^(\d)\1+$/.test(digits);
}

const rules: readonly RegexRule[] = [
  {
    kind: 'email',
    pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])/dg,
  },
  {
    // Groups of 4 (or Amex 4-6-5) separated by one blank or dash, or 13–19 bare digits.
    kind: 'card-number',
    pattern: /(?<![\d-])(?:\d{4}([ -]?)\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -]?)\d{6}\2\d{5})(?![\d-])/dg,
    accept: luhnValid,
  },
  { kind: 'ssn', pattern: /(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])/dg },
  {
    // +CC then 6–14 digits with optional separators, or (NNN) NNN-NNNN / NNN-NNN-NNNN / NNN.NNN.NNNN.
    kind: 'phone',
    pattern: /(?<![\w+.-])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}|\(\d{3}\) ?\d{3}-\d{4}|\d{3}([-.])\d{3}\1\d{4})(?![\w-])/dg,
  },
];

// Held tail: an e-mail-shaped word, or a run of digits and number punctuation.
const hold = endAnchoredHold(/(?:[A-Za-z0-9._%+-]+(?:@[A-Za-z0-9.-]*)?|[+(]?\d[\d ().-]*)$/, 128);

/** piiDetector finds e-mail, phone, card (Luhn) and SSN; it never throws. */
export const piiDetector: Detector = {
  name: 'pii',
  find: (text) => findWithRules(text, rules),
  pendingStart: hold,
};
