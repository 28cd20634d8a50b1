/**
 * The CEL environment policy expressions are compiled in, and the translation of cel-js
 * errors into plain words. Three variables exist, all maps: `request`, `identity` and
 * `object`; any other name is a compile error, so a typo (`reqest.verb`) is caught when the
 * policy loads rather than failing closed on every request.
 */
import { Environment, type ASTNode, type ParseResult } from '@marcbachmann/cel-js';
import { celTypeName } from './cel-values.js';

/** The variables a rule's `match` may use, in the order of the fast path's variable slots. */
export const policyVariables = ['request', 'identity', 'object'] as const;

/** The fields of `identity` a rule sees (an Identity's `expiresAt` is deliberately not one). */
export const identityFields: ReadonlySet<string> = new Set(['subject', 'groups', 'issuer', 'kind', 'tokenId', 'clientId', 'via']);

const environment = new Environment({
  // A policy expression is one line of intent; these bounds stop a hostile or generated
  // policy from making compilation or evaluation expensive.
  limits: { maxAstNodes: 2000, maxDepth: 64, maxListElements: 1000, maxMapEntries: 1000, maxCallArguments: 16 },
})
  .registerVariable('request', 'map')
  .registerVariable('identity', 'map')
  .registerVariable('object', 'map');

/** A compiled expression: the cel-js program (type-checked) and its AST for the fast path. */
export interface CelProgram {
  program: ParseResult;
  ast: ASTNode;
}

/** Why an expression did not compile, with the 0-based offset of the fault in the expression. */
export interface CelCompileFailure {
  offset: number;
  message: string;
}

interface CelErrorLike {
  summary?: unknown;
  message?: unknown;
  code?: unknown;
  range?: { start?: unknown };
}

/**
 * compileCel parses and type-checks one expression. It never throws: a syntax error, an
 * unknown variable, a type error or a non-boolean result type comes back as a failure with
 * the offset of the offending token.
 */
export function compileCel(expression: string): CelProgram | CelCompileFailure {
  let program: ParseResult;
  try {
    program = environment.parse(expression);
  } catch (err) {
    return failureFrom(err);
  }
  const checked = program.check();
  if (!checked.valid) return failureFrom(checked.error);
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    return { offset: 0, message: `match must be a boolean expression, but it yields ${checked.type}` };
  }
  return { program, ast: program.ast };
}

function failureFrom(err: unknown): CelCompileFailure {
  const e = (err ?? {}) as CelErrorLike;
  const start = typeof e.range?.start === 'number' ? e.range.start : 0;
  const summary = typeof e.summary === 'string' ? e.summary : typeof e.message === 'string' ? e.message : String(err);
  return { offset: start, message: summary };
}

/**
 * Error codes whose cel-js message names only types, keys from the expression or positions.
 * Other messages may quote request data (a duration string, a regular expression built from
 * a field), and `Decision.errors` is recorded in the ledger, so for those only the code is kept.
 */
const dataFreeCodes = new Set([
  'no_such_key',
  'no_such_overload',
  'no_matching_overload',
  'invalid_logical_operand',
  'invalid_condition_type',
  'variable_type_mismatch',
  'field_type_mismatch',
  'unsupported_type',
  'invalid_comprehension_range',
  'unknown_variable',
]);

/**
 * describeEvalError turns whatever a rule's evaluation threw into one line for
 * `Decision.errors`: the cel-js code, the column in the expression, and the message when it
 * cannot carry request data.
 */
export function describeEvalError(err: unknown, expression: string): string {
  const e = (err ?? {}) as CelErrorLike;
  const code = typeof e.code === 'string' ? e.code : 'evaluation_error';
  const where = typeof e.range?.start === 'number' ? ` at ${positionIn(expression, e.range.start)}` : '';
  const summary = dataFreeCodes.has(code) && typeof e.summary === 'string' ? `: ${e.summary.slice(0, 200)}` : '';
  return `${code}${where}${summary}`;
}

/** describeNonBoolean explains a match that produced something other than true or false. */
export function describeNonBoolean(value: unknown): string {
  return `non_boolean_result: match yielded ${celTypeName(value)}, not bool`;
}

/** positionIn renders a 0-based offset as `column C` (or `line L column C` for multi-line expressions). */
export function positionIn(expression: string, offset: number): string {
  const { line, column } = lineColumn(expression, offset);
  return expression.includes('\n') ? `line ${line} column ${column}` : `column ${column}`;
}

/** lineColumn converts a 0-based offset in `text` to a 1-based line and column. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lastBreak = before.lastIndexOf('\n');
  let line = 1;
  for (let i = before.indexOf('\n'); i !== -1; i = before.indexOf('\n', i + 1)) line++;
  return { line, column: before.length - lastBreak };
}
