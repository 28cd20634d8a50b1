/**
 * What a Kubernetes request body is, from its Content-Type: the forms clients send
 * (reference §2.3, §2.8) and whether airlock can read them itself or must ask the cluster
 * (a `dryRun=All` of the same request) what object they would produce.
 */
import { parse as parseYaml } from 'yaml';

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
  if (format === 'yaml' || format === 'apply-patch') {
    // One document only; `uniqueKeys` refuses the duplicate-key trick that reads differently elsewhere.
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  }
  return JSON.parse(text);
}
