/**
 * The Detector contract shared by every secret and PII detector used on streams (terminal
 * output, `kubectl logs`). A detector is pure: it reads a string and names ranges; it never
 * rewrites text, opens a socket or keeps state between calls, so one instance serves every
 * session.
 *
 * Streams arrive in arbitrary frames, so besides `find` a detector may say where an
 * *unfinished* candidate begins (`pendingStart`): the stream masker holds text from there until
 * the candidate completes or the caller flushes. A detector without `pendingStart` is treated
 * conservatively (the trailing non-blank run is held).
 */

/** Finding is one detected range `[start, end)` in UTF-16 code units of the scanned text. */
export interface Finding {
  readonly start: number;
  readonly end: number;
  /** kind names what was found (`aws-access-key-id`, `jwt`, `email`, …); never the value. */
  readonly kind: string;
}

/** Detector finds secrets or PII in a string of displayed text. */
export interface Detector {
  readonly name: string;
  find(text: string): Finding[];
  /**
   * pendingStart returns the index from which `text` may be the beginning of a match that
   * more text could complete, or `text.length` when nothing is pending.
   */
  pendingStart?(text: string): number;
}

/** Trigger is a cheap test for a literal (a non-global RegExp is one). */
export interface Trigger {
  test(text: string): boolean;
}

/** RegexRule is one pattern; `group` names the capture that is masked (default: whole match). */
export interface RegexRule {
  readonly kind: string;
  /** pattern is global with indices (`dg`); it is shared, so it must not be used elsewhere. */
  readonly pattern: RegExp;
  readonly group?: number;
  /** accept filters candidates a regex cannot judge (a Luhn check, a JSON header). */
  readonly accept?: (value: string) => boolean;
  /**
   * trigger is a cheap test every text `pattern` matches passes (a literal every match
   * contains); a text that fails it skips the rule. Rules may share one trigger, which is then
   * tested once per text.
   */
  readonly trigger?: Trigger;
  /**
   * boundary is a sticky lookbehind (`/(?<![A-Za-z])/y`) that must hold where a match starts.
   * Written inside `pattern` it would be tried at every position; kept out, the scan skips
   * ahead to the pattern's literals and the lookbehind is checked only where they occur.
   */
  readonly boundary?: RegExp;
}

/** The longest masked value that is scanned again as the possible start of another match. */
const RESCAN_LIMIT = 64;

/** findWithRules runs each rule's global regex over text and returns the ranges to mask. */
export function findWithRules(text: string, rules: readonly RegexRule[]): Finding[] {
  const out: Finding[] = [];
  let triggered: Map<Trigger, boolean> | undefined;
  for (const rule of rules) {
    if (rule.trigger) {
      triggered ??= new Map();
      let hit = triggered.get(rule.trigger);
      if (hit === undefined) {
        hit = rule.trigger.test(text);
        triggered.set(rule.trigger, hit);
      }
      if (!hit) continue;
    }
    const re = rule.pattern;
    const g = rule.group ?? 0;
    // A fresh lastIndex per call: the regexes are shared, module-level and global.
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (rule.boundary) {
        rule.boundary.lastIndex = m.index;
        if (!rule.boundary.test(text)) {
          // Not a match here: go on from the next position, as the lookbehind would.
          re.lastIndex = m.index + 1;
          continue;
        }
      }
      if (m[0].length === 0) re.lastIndex++;
      const span = m.indices?.[g];
      const value = m[g];
      if (span === undefined || value === undefined || value.length === 0) continue;
      if (rule.accept && !rule.accept(value)) continue;
      out.push({ start: span[0], end: span[1], kind: rule.kind });
      // The masked value may itself name another secret (`password= DB_PASSWORD = hunter2`):
      // the scan goes on from the value, not from the end of the match. Only a short value (a
      // name) is read again, so a long crafted run (`password=password=…`) stays one match.
      if (g > 0 && span[0] > m.index && value.length <= RESCAN_LIMIT) re.lastIndex = span[0];
    }
  }
  return out;
}

/**
 * anyCase spells each ASCII letter of a regex source as a class of its two cases (`[aA]`): the
 * same matches as the `i` flag, which makes the scan much slower on text with characters
 * beyond Latin-1 (box drawing, emoji, CJK). For sources whose letters all stand for themselves:
 * no escapes like `\s`, no letters inside classes.
 */
export function anyCase(source: string): string {
  return source.replace(/[A-Za-z]/g, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
}

/**
 * literalTrigger holds when text contains one of `literals`, or matches `also` (for what no
 * short list of literals covers). A substring search skips natively to the occurrences of the
 * literal's first character, so it costs far less than a regex alternation, which is tried at
 * every position: literals should begin with a rare character, and be shorter than 7 (a longer
 * one is searched another way, several times slower).
 */
export function literalTrigger(literals: readonly string[], also?: RegExp): Trigger {
  return {
    test(text) {
      for (const l of literals) if (text.includes(l)) return true;
      return also?.test(text) ?? false;
    },
  };
}

/**
 * asciiLowerCase returns text with ASCII letters in lower case and every character where it
 * was: each UTF-16 unit becomes one byte with the high bit cleared (so a character beyond ASCII
 * may turn into a letter: an extra hit for a search, never a missed one). `toLowerCase` alone
 * may lengthen text (`İ` becomes two characters), which would move every position after it.
 */
export function asciiLowerCase(text: string): string {
  return Buffer.from(text, 'latin1').toString('ascii').toLowerCase();
}

/** How much text anyCaseTrigger searches first, alone. */
const PROBE = 2048;

/**
 * anyCaseTrigger is literalTrigger for lowercase ASCII literals in any ASCII case, as `anyCase`
 * patterns match them. It searches a lowercased ASCII copy (each UTF-16 unit as one byte, the
 * high bit cleared): every ASCII character stays where it was, so no occurrence is lost (another
 * character may turn into a letter: an extra hit, never a missed one), and the copy is one-byte
 * whatever the text was, so it lowercases natively (a two-byte string, as any text beyond
 * Latin-1 is, lowercases through ICU at several times the cost). A first piece is searched
 * alone: text with a literal mostly has one early, and is spared copying the rest.
 */
export function anyCaseTrigger(literals: readonly string[]): Trigger {
  const overlap = Math.max(...literals.map((l) => l.length)) - 1;
  const has = (piece: string): boolean => {
    const lower = asciiLowerCase(piece);
    for (const l of literals) if (lower.includes(l)) return true;
    return false;
  };
  return {
    test(text) {
      if (text.length <= PROBE) return has(text);
      return has(text.slice(0, PROBE)) || has(text.slice(PROBE - overlap));
    },
  };
}

const BLANK = /\s/;

/** tailTokenStart returns where the trailing run of non-blank characters begins. */
export function tailTokenStart(text: string, limit = 512): number {
  let i = text.length;
  const floor = Math.max(0, text.length - limit);
  while (i > floor) {
    const c = text.charCodeAt(i - 1);
    // Printable ASCII is never blank; anything else is asked of the regex.
    if ((c <= 0x20 || c >= 0x7f) && BLANK.test(text[i - 1] ?? ' ')) break;
    i--;
  }
  return i;
}

/**
 * buildTriggerHold returns a `pendingStart` for token secrets that always begin with one of a
 * few literal triggers (`ghp_`, `AKIA`, `eyJ`): text is held from a trigger in the trailing
 * token, or from a suffix that is a proper prefix of a trigger at a word boundary, so an
 * ordinary keystroke (`l`, `s`) is released at once.
 */
export function buildTriggerHold(triggers: readonly string[], caseInsensitive = false): (text: string) => number {
  // Positions in the normalized tail are positions in the text: see asciiLowerCase.
  const norm = (s: string): string => (caseInsensitive ? asciiLowerCase(s) : s);
  const list = triggers.map(norm);
  const prefixes = new Set<string>();
  // The first characters of the triggers: a suffix that starts otherwise is no prefix.
  const firsts = new Set<number>();
  let longest = 0;
  for (const t of list) {
    longest = Math.max(longest, t.length);
    firsts.add(t.charCodeAt(0));
    for (let k = 1; k < t.length; k++) prefixes.add(t.slice(0, k));
  }
  return function pendingFromTriggers(text: string): number {
    const tokenStart = tailTokenStart(text);
    const tail = norm(text.slice(tokenStart));
    let best = text.length;
    for (const t of list) {
      const at = tail.indexOf(t);
      if (at >= 0) best = Math.min(best, tokenStart + at);
    }
    if (best < text.length) return best;
    const maxK = Math.min(longest - 1, tail.length);
    for (let k = maxK; k >= 1; k--) {
      const pos = text.length - k;
      if (!firsts.has(tail.charCodeAt(tail.length - k)) || !prefixes.has(tail.slice(tail.length - k))) continue;
      if (pos === 0 || !/[A-Za-z0-9]/.test(text[pos - 1] ?? '')) return pos;
    }
    return text.length;
  };
}

/**
 * endAnchoredHold returns a `pendingStart` that holds from the match of a `$`-anchored regex in
 * the last `window` characters. With `singleLine` (the pattern matches no `\n`, and its leading
 * lookbehind, if any, holds after a `\n` as at the start of text) the search starts after the
 * last line break, so a frame ending in whole lines costs no scan.
 */
export function endAnchoredHold(pattern: RegExp, window = 512, singleLine = false): (text: string) => number {
  return function pendingFromPattern(text: string): number {
    let from = Math.max(0, text.length - window);
    if (singleLine) from = Math.max(from, text.lastIndexOf('\n') + 1);
    const m = pattern.exec(from === 0 ? text : text.slice(from));
    return m ? from + m.index : text.length;
  };
}
