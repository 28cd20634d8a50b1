/**
 * What a Kubernetes request body is, from its Content-Type: the forms clients send
 * (reference §2.3, §2.8) and whether airlock can read them itself or must ask the cluster
 * (a `dryRun=All` of the same request) what object they would produce.
 */
import { parse as parseYaml } from 'yaml';
import { nestsDeeperThan } from '../../masking/index.js';

export type BodyFormat = 'json' | 'yaml' | 'apply-patch' | 'merge-patch' | 'strategic-merge-patch' | 'json-patch' | 'protobuf' | 'cbor' | 'other';

/** bodyFormat classifies a request Content-Type. */
export function bodyFormat(contentType: string | undefined): BodyFormat {
  const type = (contentType ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';
  switch (type) {
    case 'application/json':
    case '':
      return 'json';
    case 'application/yaml':
      return 'yaml';
    case 'application/apply-patch+yaml':
      return 'apply-patch';
    case 'application/merge-patch+json':
      return 'merge-patch';
    case 'application/strategic-merge-patch+json':
      return 'strategic-merge-patch';
    case 'application/json-patch+json':
      return 'json-patch';
    case 'application/vnd.kubernetes.protobuf':
      return 'protobuf';
    case 'application/cbor':
    case 'application/apply-patch+cbor':
      return 'cbor';
    default:
      return 'other';
  }
}

/** isPatchFormat: the body describes a change, not the resulting object. */
export function isPatchFormat(format: BodyFormat): boolean {
  return format === 'apply-patch' || format === 'merge-patch' || format === 'strategic-merge-patch' || format === 'json-patch';
}

/**
 * parseBody reads a JSON or YAML body (server-side apply documents are YAML, and JSON is
 * YAML). It returns undefined for binary formats and throws a plain Error for a body that
 * does not parse.
 */
export function parseBody(format: BodyFormat, body: Buffer): unknown {
  if (format === 'protobuf' || format === 'cbor' || format === 'other') return undefined;
  const text = body.toString('utf8');
  checkNesting(text);
  if (format === 'yaml' || format === 'apply-patch') {
    // One document only; `uniqueKeys` refuses the duplicate-key trick that reads differently elsewhere.
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  }
  return JSON.parse(text);
}

/**
 * How deep a body may nest. Kubernetes objects nest a few dozen levels at most; a parser, the
 * policy and the ledger's canonical form all recurse, and a body nested thousands deep (within
 * the size limit) would exhaust the stack somewhere in them, where V8 may abort the process
 * instead of throwing. So such a body is refused before anything reads it.
 */
export const MAX_BODY_NESTING = 256;
/** Block YAML nests by indentation: a line indented further than this is refused the same way. */
export const MAX_BODY_INDENT = 1000;

/**
 * checkNesting throws a plain Error when `text` has more than MAX_BODY_NESTING brackets open at
 * once (nestsDeeperThan), or indents a line more than MAX_BODY_INDENT columns.
 */
export function checkNesting(text: string): void {
  if (nestsDeeperThan(text, MAX_BODY_NESTING)) throw new Error(`the body nests deeper than ${MAX_BODY_NESTING} levels; airlock reads no deeper`);
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) indent = 0;
    else if (indent >= 0 && (c === 0x20 || c === 0x09)) {
      if (++indent > MAX_BODY_INDENT) throw new Error(`the body indents a line deeper than ${MAX_BODY_INDENT} columns; airlock reads no deeper`);
    } else indent = -1; // past the line's indentation
  }
}
