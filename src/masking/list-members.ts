/**
 * Checks of the members that surround a streamed `items` or `rows` array. The splitter passes
 * these bytes on as they came, so they are parsed and checked here first: they must be JSON,
 * and they must not hold anything that needs masking, because the elements around them are
 * masked one by one and nothing else is.
 *
 * - Before the first array (the envelope: kind, apiVersion, ListMeta) members are parsed and
 *   handed to the masker; if they include Secret fields (`data`, `stringData`, a watch event's
 *   `object`) the value is no list at all and is held and parsed whole instead.
 * - After an array, bytes before them are already sent, so Secret fields and `metadata` are
 *   refused outright. The apiserver writes `items`/`rows` last, so this never happens with a
 *   real cluster.
 *
 * Errors are AIRLOCK_MASK_INVALID_JSON with an offset, never with content.
 */
import { AirlockError } from '../errors.js';

/** Members that would mean the "list" is really a Secret or a watch event: not streamable. */
const secretMembers = ['data', 'stringData', 'object'];
/** After a streamed array nothing may need masking, since earlier bytes are already sent. */
const lateForbiddenMembers = [...secretMembers, 'metadata'];

/** What must lie between a member's key and its array: `"items" : [`. */
const containerTail = /^"(items|rows)"[ \t\r\n]*:[ \t\r\n]*\[$/;

/**
 * readEnvelope parses `{ members , "items":[` (the key starting at `keyOffset`) and says
 * whether the array may be streamed; it throws on anything that is not JSON.
 */
export function readEnvelope(text: string, keyOffset: number, at: number): { envelope: Record<string, unknown>; streamable: boolean } {
  checkTail(text, keyOffset, at);
  const envelope = parseMembers(text.slice(0, keyOffset), '{', at);
  return { envelope, streamable: !secretMembers.some((m) => m in envelope) };
}

/** checkMembersBetween checks `, members , "rows":[` between two streamed arrays. */
export function checkMembersBetween(text: string, keyOffset: number, at: number): void {
  checkTail(text, keyOffset, at);
  checkLate(parseMembers(text.slice(0, keyOffset), ',', at), at);
}

/** checkMembersAfter checks `, members }` after the last streamed array. */
export function checkMembersAfter(text: string, at: number): void {
  let members: unknown;
  try {
    members = JSON.parse('{"_":0' + text);
  } catch {
    throw invalid(`malformed members after an array, ending at offset ${at}`);
  }
  checkLate(members as Record<string, unknown>, at);
}

/** invalid builds the error for bytes that are not JSON. */
export function invalid(detail: string): AirlockError {
  return new AirlockError('AIRLOCK_MASK_INVALID_JSON', detail);
}

function checkTail(text: string, keyOffset: number, at: number): void {
  if (!containerTail.test(text.slice(keyOffset))) throw invalid(`malformed member at offset ${at}`);
}

/**
 * parseMembers parses the members held before a streamed array's key: `{` + members + `,`
 * for an envelope, `,` + members + `,` (or a lone `,`) between two arrays.
 */
function parseMembers(head: string, opener: '{' | ',', at: number): Record<string, unknown> {
  const trimmed = head.trim();
  if (!trimmed.startsWith(opener)) throw invalid(`malformed members before offset ${at}`);
  const rest = trimmed.slice(1).trim();
  if (rest === '') return {};
  if (!rest.endsWith(',')) throw invalid(`missing comma before offset ${at}`);
  const body = rest.slice(0, -1);
  if (body.trim() === '') throw invalid(`malformed members before offset ${at}`);
  try {
    return JSON.parse(`{${body}}`) as Record<string, unknown>;
  } catch {
    throw invalid(`malformed members before offset ${at}`);
  }
}

function checkLate(members: Record<string, unknown>, at: number): void {
  const late = lateForbiddenMembers.find((m) => m in members);
  if (late) throw invalid(`a "${late}" member follows a streamed array (at offset ${at}); airlock cannot mask it`);
}
