/**
 * Kubernetes field selectors (`?fieldSelector=`), parsed exactly as apimachinery's
 * `pkg/fields/selector.go` does, so that `fieldSelector=metadata.name=X` names the same object
 * for airlock as for the apiserver (RequestInfo sets `Name` from it on list and watch).
 *
 * The traps this reproduces: terms split on unescaped `,`; terms are sorted before parsing, so
 * the *first after sorting* `metadata.name` term wins; operators are tried `!=`, `==`, `=` at
 * each position; only `\\`, `\,` and `\=` are valid escapes in a value, and a bare `,` or `=`
 * in a value (or any other escape) fails the whole selector.
 *
 * Pure: no I/O.
 */
import { compareGoStrings } from './go-url.js';

export type FieldSelectorOperator = '=' | '==' | '!=';

/** FieldSelectorTerm is one `field<op>value` requirement, with the value unescaped. */
export interface FieldSelectorTerm {
  field: string;
  operator: FieldSelectorOperator;
  value: string;
}

export type FieldSelectorParse = { ok: true; terms: FieldSelectorTerm[] } | { ok: false; reason: string };

/** Operators in the order Go tries them: `==` before `=` so no `=` is left on the value. */
const OPERATORS: readonly FieldSelectorOperator[] = ['!=', '==', '='];

/** splitTerms cuts on `,` that no backslash escapes; escapes stay in the terms. */
function splitTerms(selector: string): string[] {
  if (selector.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  let index = 0;
  for (const c of selector) {
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(selector.slice(start, index));
      start = index + 1;
    }
    index += c.length;
  }
  terms.push(selector.slice(start));
  return terms;
}

/** splitTerm finds the first position where any operator starts; the field has no escaping. */
function splitTerm(term: string): { field: string; operator: FieldSelectorOperator; rawValue: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of OPERATORS) {
      if (term.startsWith(op, i)) return { field: term.slice(0, i), operator: op, rawValue: term.slice(i + op.length) };
    }
  }
  return undefined;
}

/** unescapeValue is apimachinery's `UnescapeValue`; it returns undefined where Go returns an error. */
export function unescapeValue(raw: string): string | undefined {
  if (!/[\\,=]/.test(raw)) return raw;
  let out = '';
  let inSlash = false;
  for (const c of raw) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') return undefined;
      out += c;
      inSlash = false;
    } else if (c === '\\') {
      inSlash = true;
    } else if (c === ',' || c === '=') {
      return undefined;
    } else {
      out += c;
    }
  }
  return inSlash ? undefined : out;
}

/**
 * parseFieldSelector parses a raw field selector as `fields.ParseSelector` does. An empty
 * selector has no terms. A term whose field and value are both empty is dropped (Go's identity
 * `Transform` turns it into "everything"). On a parse error it returns `ok: false`.
 */
export function parseFieldSelector(selector: string): FieldSelectorParse {
  const parts = splitTerms(selector).sort(compareGoStrings);
  const terms: FieldSelectorTerm[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const split = splitTerm(part);
    if (!split) return { ok: false, reason: `invalid selector: can't understand '${part}'` };
    const value = unescapeValue(split.rawValue);
    if (value === undefined) return { ok: false, reason: `invalid field selector value in '${part}'` };
    if (split.field === '' && value === '') continue;
    terms.push({ field: split.field, operator: split.operator, value });
  }
  return { ok: true, terms };
}

/**
 * requiresExactMatch is `Selector.RequiresExactMatch(field)`: the value of the first `=`/`==`
 * term on that field, in sorted order; undefined when no such term exists.
 */
export function requiresExactMatch(terms: readonly FieldSelectorTerm[], field: string): string | undefined {
  for (const term of terms) {
    if (term.field === field && term.operator !== '!=') return term.value;
  }
  return undefined;
}

/** isValidPathSegmentName is apimachinery's `path.IsValidPathSegmentName`: not `.`/`..`, no `/` or `%`. */
export function isValidPathSegmentName(name: string): boolean {
  return name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}
