/**
 * Warnings about rules that compile but probably do not mean what they say. One for now, the
 * most common mistake in a first policy: a deny or review rule that compares a request field
 * that some requests do not have (`request.resource == "secrets"`) without `has()`. On a
 * request without the field (kubectl's discovery, `/version`, any non-resource path) reading it
 * is an error, and an erroring deny or review rule counts as matched (fail closed): the rule
 * would deny or hold every such request, and kubectl stops working. The decision is right to
 * fail closed; the warning says so before it happens.
 *
 * Pure: reads a rule's guards (guards.ts), never evaluates anything.
 */
import type { Guard } from './guards.js';

/** Request fields every request has; every other field is absent on some requests. */
const ALWAYS_PRESENT = new Set(['protocol', 'connection', 'verb']);

/**
 * unguardedFieldWarnings names, for a deny or review rule, each optional field it compares
 * without has(), when the rule can reach that comparison on kubectl's discovery requests (plain
 * GETs of non-resource paths). A rule whose verb guard leaves `get` out is false on those
 * first, and in CEL `false && error` is false, so it is not warned about.
 */
export function unguardedFieldWarnings(rule: { name: string; effect: string; line: number }, guards: readonly Guard[], file: string): string[] {
  if (rule.effect === 'allow') return []; // an erroring allow rule simply does not match
  const verb = guards.find((g) => g.field === 'verb');
  if (verb?.values && !verb.values.has('get')) return [];
  return guards
    .filter((g) => g.values !== undefined && !g.present && !ALWAYS_PRESENT.has(g.field))
    .map(
      (g) =>
        `${file}:${rule.line}: rule "${rule.name}": request.${g.field} is absent on some requests (discovery, /version and other paths without it); ` +
        `there this ${rule.effect} rule fails and so ${rule.effect === 'deny' ? 'denies' : 'holds'} them. ` +
        `Write has(request.${g.field}) && … to leave them alone.`,
    );
}
