/**
 * Validation of Kubernetes label selectors (`?labelSelector=`), as apimachinery's
 * `pkg/labels/selector.go` parser accepts or refuses them.
 *
 * Why a gateway needs it: the apiserver decodes a list request's query into `ListOptions`, and
 * when *any* field fails to decode (a label selector among them) it keeps only `watch`, so a
 * `fieldSelector=metadata.name=X` then sets no name. To agree with the apiserver on the name,
 * airlock must know exactly which label selectors Go refuses. Only validity is needed here;
 * the selector itself is passed to policy as the raw string.
 *
 * The lexer works on UTF-8 bytes like Go's, including its quirk that a NUL byte reads as the
 * end of the string where a token starts, and as a separator inside an identifier.
 * Pure: no I/O.
 */
import { isGoInt64 } from './go-url.js';

type Token =
  | 'error' | 'end' | ')' | ',' | '!' | '==' | '=' | '>' | 'identifier' | 'in' | '<' | '!=' | 'notin' | '(';

interface Item {
  tok: Token;
  lit: string;
}

/** Literal tokens, as Go's `string2token`. */
const KEYWORDS = new Map<string, Token>([
  [')', ')'], [',', ','], ['!', '!'], ['==', '=='], ['=', '='], ['>', '>'],
  ['in', 'in'], ['<', '<'], ['!=', '!='], ['notin', 'notin'], ['(', '('],
]);

const isWhitespace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;
const isSpecial = (b: number): boolean =>
  b === 0x3d || b === 0x21 || b === 0x28 || b === 0x29 || b === 0x2c || b === 0x3e || b === 0x3c;

/** scan tokenises the whole selector up to and including the end token (Go's `Parser.scan`). */
function scan(selector: string): Item[] {
  const s = Buffer.from(selector, 'utf8');
  let pos = 0;
  // read returns 0 at the end; a NUL byte also reads as 0, which is Go's behaviour too.
  const read = (): number => (pos < s.length ? (s[pos++] ?? 0) : 0);
  const items: Item[] = [];
  for (;;) {
    let ch = read();
    while (isWhitespace(ch)) ch = read();
    let item: Item;
    if (ch === 0) {
      item = { tok: 'end', lit: '' };
    } else if (isSpecial(ch)) {
      pos--;
      let buffer = '';
      let last: Item | undefined;
      for (;;) {
        const c = read();
        if (c === 0) break;
        if (!isSpecial(c)) {
          pos--;
          break;
        }
        buffer += String.fromCharCode(c);
        const tok = KEYWORDS.get(buffer);
        if (tok) last = { tok, lit: buffer };
        else if (last) {
          pos--;
          break;
        }
      }
      item = last ?? { tok: 'error', lit: buffer };
    } else {
      pos--;
      const start = pos;
      let end = pos;
      for (;;) {
        const c = s[pos];
        end = pos;
        if (c === undefined) break;
        if (c === 0) {
          pos++; // Go consumes the NUL that ends the identifier
          break;
        }
        if (isSpecial(c) || isWhitespace(c)) break;
        pos++;
      }
      const lit = s.subarray(start, end).toString('latin1');
      item = { tok: KEYWORDS.get(lit) ?? 'identifier', lit };
    }
    items.push(item);
    if (item.tok === 'end') return items;
  }
}

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** isQualifiedName is apimachinery's `validation.IsQualifiedName` (label keys): `[prefix/]name`. */
export function isQualifiedName(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts.length === 2 ? (parts[1] ?? '') : key;
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    if (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) return false;
  }
  return name.length > 0 && name.length <= 63 && QUALIFIED_NAME.test(name);
}

/** isValidLabelValue is apimachinery's `validation.IsValidLabelValue`: empty, or a ≤ 63-character qualified name. */
export function isValidLabelValue(value: string): boolean {
  return value.length <= 63 && (value === '' || QUALIFIED_NAME.test(value));
}

class SelectorError extends Error {}

/** Parser mirrors Go's recursive descent; in value context `in`/`notin` are plain identifiers. */
class Parser {
  private position = 0;
  constructor(private readonly items: Item[]) {}

  private peek(values: boolean): Item {
    const item = this.items[this.position] ?? { tok: 'end', lit: '' };
    return values && (item.tok === 'in' || item.tok === 'notin') ? { tok: 'identifier', lit: item.lit } : item;
  }

  private next(values: boolean): Item {
    const item = this.peek(values);
    this.position++;
    return item;
  }

  parse(): void {
    for (;;) {
      const { tok, lit } = this.peek(true);
      if (tok === 'end') return;
      if (tok !== 'identifier' && tok !== '!') throw new SelectorError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      this.requirement();
      const after = this.next(true);
      if (after.tok === 'end') return;
      if (after.tok !== ',') throw new SelectorError(`found '${after.lit}', expected: ',' or 'end of string'`);
      const following = this.peek(true).tok;
      if (following !== 'identifier' && following !== '!') throw new SelectorError("expected: identifier after ','");
    }
  }

  private requirement(): void {
    let tok = this.next(true);
    const negated = tok.tok === '!';
    if (negated) tok = this.next(true);
    if (tok.tok !== 'identifier') throw new SelectorError(`found '${tok.lit}', expected: identifier`);
    const key = tok.lit;
    if (!isQualifiedName(key)) throw new SelectorError(`invalid label key "${key}"`);
    const ahead = this.peek(true).tok;
    if (ahead === 'end' || ahead === ',') return; // exists / does-not-exist
    if (negated) throw new SelectorError(`found '${this.peek(true).lit}', expected: ',' or 'end of string'`);
    const op = this.next(false).tok;
    let values: string[];
    if (op === 'in' || op === 'notin') values = this.setValues();
    else if (op === '=' || op === '==' || op === '!=' || op === '>' || op === '<') values = this.exactValue();
    else throw new SelectorError("expected: '=', '!=', '==', 'in', notin'");
    if ((op === '>' || op === '<') && !values.every(isGoInt64)) throw new SelectorError('the value must be an integer');
    for (const v of values) if (!isValidLabelValue(v)) throw new SelectorError(`invalid label value "${v}"`);
  }

  private setValues(): string[] {
    if (this.next(true).tok !== '(') throw new SelectorError("expected: '('");
    const first = this.peek(true).tok;
    if (first === ')') {
      this.next(true);
      return [''];
    }
    if (first !== 'identifier' && first !== ',') throw new SelectorError("expected: ',', ')' or identifier");
    const values = new Set<string>();
    for (;;) {
      const item = this.next(true);
      if (item.tok === 'identifier') {
        values.add(item.lit);
        const ahead = this.peek(true).tok;
        if (ahead === ')') break;
        if (ahead !== ',') throw new SelectorError("expected: ',' or ')'");
      } else if (item.tok === ',') {
        if (values.size === 0) values.add('');
        const ahead = this.peek(true).tok;
        if (ahead === ')') {
          values.add('');
          break;
        }
        if (ahead === ',') {
          this.next(true);
          values.add('');
        }
      } else {
        throw new SelectorError("expected: ',', or identifier");
      }
    }
    if (this.next(true).tok !== ')') throw new SelectorError("expected: ')'");
    return [...values];
  }

  private exactValue(): string[] {
    const ahead = this.peek(true).tok;
    if (ahead === 'end' || ahead === ',') return [''];
    const item = this.next(true);
    if (item.tok !== 'identifier') throw new SelectorError(`found '${item.lit}', expected: identifier`);
    return [item.lit];
  }
}

/**
 * labelSelectorError returns why `labels.Parse` would refuse the selector, or undefined when
 * Go accepts it (the empty selector included).
 */
export function labelSelectorError(selector: string): string | undefined {
  try {
    new Parser(scan(selector)).parse();
    return undefined;
  } catch (err) {
    if (err instanceof SelectorError) return err.message;
    throw err;
  }
}
