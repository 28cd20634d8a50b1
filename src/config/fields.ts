/**
 * Field schemas shared by the configuration sections and by command-line flags, so that
 * `listen: foo` in a file and `--listen foo` on the command line fail with the same words.
 *
 * Messages here never include the offending value: a value may have come from `${ENV_VAR}`
 * interpolation and be a secret. The error's file:line:column points at it instead.
 */
import * as z from 'zod';
import { parseDuration } from './duration.js';
import { hostPortExpectation, parseHostPort } from './host-port.js';

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** A listener address kept as written (`127.0.0.1:8443`); parseHostPort splits it. */
export const hostPortSchema = z.string({ error: hostPortExpectation }).superRefine((text, ctx) => {
  const parsed = parseHostPort(text);
  if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
});

const durationExpectation = 'expected a duration such as 500ms, 30s, 15m, 24h, 7d or 1h30m (a bare number means seconds)';

/** A duration written as text or seconds, normalised to whole milliseconds. */
export const durationSchema = z.unknown().transform((value, ctx): number => {
  if (typeof value !== 'string' && typeof value !== 'number') {
    ctx.addIssue({ code: 'custom', message: `${durationExpectation}, got ${describeType(value)}` });
    return z.NEVER;
  }
  try {
    return parseDuration(value);
  } catch {
    // parseDuration's own message quotes the text; a config value may be a secret, so only
    // the generic expectation is reported here.
    ctx.addIssue({ code: 'custom', message: durationExpectation });
    return z.NEVER;
  }
});

export const logLevelSchema = z.enum(logLevels, { error: `expected one of ${logLevels.join(', ')}` });

/** A path as written; load.ts resolves it against the config file's directory. */
export const pathSchema = z
  .string({ error: 'expected a file path' })
  .min(1, { error: 'expected a file path, got an empty string' })
  .refine((text) => !text.includes('\0'), { error: 'a path cannot contain a NUL character' });

/** Names that end up in identities, metrics and ledger entries: short, lower-case, no spaces. */
export const nameSchema = z
  .string({ error: 'expected a name' })
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'expected a name of lower-case letters, digits and dashes (at most 63)' });

/**
 * urlSchema accepts an absolute URL with one of the given schemes. Whether plain http is
 * acceptable is a cross-field question (allowInsecure) answered by the section's refinement.
 */
export function urlSchema(schemes: readonly string[], example: string): z.ZodType<string, string> {
  const article = /^[aeiouh]/.test(schemes[0] ?? '') ? 'an' : 'a';
  const expectation = `expected ${article} ${schemes.join(' or ')} URL such as ${example}`;
  return z.string({ error: expectation }).superRefine((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: expectation });
      return;
    }
    if (!schemes.includes(url.protocol.slice(0, -1))) {
      ctx.addIssue({ code: 'custom', message: `${expectation} (the scheme must be ${schemes.join(' or ')})` });
    } else if (url.hostname === '' && schemes.some((s) => s.startsWith('http'))) {
      ctx.addIssue({ code: 'custom', message: `${expectation} (the host is missing)` });
    }
  });
}

/**
 * A whole number of bytes or entries, within bounds. Digits in a string are accepted so that
 * `${ENV_VAR}` (always text) can fill a number; text is never turned into a number otherwise.
 */
export function countSchema(min: number, what: string): z.ZodType<number, unknown> {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value),
    z
      .int({ error: `expected a whole number of ${what}` })
      .min(min, { error: `expected a whole number of ${what}, at least ${min}` })
      .max(Number.MAX_SAFE_INTEGER, { error: `expected a whole number of ${what}` }),
  );
}

/** true or false; the strings `true`/`false` are accepted for the same reason as digits above. */
export const booleanSchema = z.preprocess(
  (value) => (value === 'true' ? true : value === 'false' ? false : value),
  z.boolean({ error: 'expected true or false' }),
);

/** describeType names a value's YAML type for "got …" in messages, never the value itself. */
export function describeType(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true/false';
    case 'object':
      return 'a map';
    default:
      return `a ${typeof value}`;
  }
}
