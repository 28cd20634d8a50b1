/**
 * Interpreting a write's body: what object would it produce (policy's `object`), is it
 * smuggling a masked placeholder back (refused), and what masked form goes to the ledger.
 *
 * JSON and YAML objects are read directly. Patches, server-side apply and protobuf bodies
 * are resolved by a dry-run of the same request, when policy looks at `object` (patches) or
 * always (protobuf: a JSON form is needed to record it without clear values). A body airlock
 * cannot interpret never passes: it is refused with a reason.
 */
import type { PayloadInput } from '../../ledger/types.js';
import {
  bytesCarryPlaceholder,
  findMaskedPlaceholders,
  maskRecordedJson,
  maskSecretWriteBody,
  placeholderWriteError,
  type Placeholder,
} from '../../masking/index.js';
import type { Detector } from '../../masking/detectors/detector.js';
import { refusal, type Refusal } from '../../gateway/exchange.js';
import { bodyFormat, isPatchFormat, parseBody } from './body-format.js';
import { dryRun } from './dry-run.js';
import { refusedCredential } from './upstream/index.js';
import type { KubeExchange } from './kube-exchange.js';
import type { RequestInfo } from './request-info.js';
import { maskToken, tokenSectionOf } from './token-objects.js';

export interface InterpretDeps {
  placeholder: Placeholder;
  /** True when some rule reads `object`: only then are patches resolved by a dry-run. */
  policyReadsObject: () => boolean;
  requestTimeoutMs: number;
  /** Mask the credentials other objects carry in the clear in the recorded copy. */
  streamDetectors: readonly Detector[];
}

const writeVerbs = new Set(['create', 'update', 'patch']);

/** interpretBody fills x.object and x.recordedRequest, or returns why the body is refused. */
export async function interpretBody(x: KubeExchange, deps: InterpretDeps): Promise<Refusal | undefined> {
  const body = x.body;
  const info = x.info;
  if (!body || body.length === 0 || !info) return undefined;
  const contentType = x.req.headers['content-type'];
  const format = bodyFormat(contentType);
  const isSecret = info.isResourceRequest && info.apiGroup === '' && info.resource === 'secrets';
  const writesObject = info.isResourceRequest && writeVerbs.has(info.verb);

  let parsed: unknown;
  try {
    parsed = parseBody(format, body);
  } catch (err) {
    return refusal(400, 'bad-request', `airlock could not read the ${contentType ?? 'JSON'} request body: ${err instanceof Error ? err.message : String(err)}`);
  }
  x.parsedBody = parsed;
  if (format === 'cbor' || format === 'other') {
    return refusal(415, 'unsupported', `airlock cannot read request bodies of type ${contentType}; send JSON, YAML or protobuf`);
  }

  // A placeholder written back would replace the real value in the cluster.
  if (isSecret) {
    const paths = parsed === undefined ? (bytesCarryPlaceholder(body) ? ['the request body'] : []) : findMaskedPlaceholders(parsed);
    if (paths.length > 0) return refusal(400, 'bad-request', placeholderWriteError(paths).message);
  }

  const needsDryRun = writesObject && (format === 'protobuf' || (isPatchFormat(format) && deps.policyReadsObject()));
  if (needsDryRun) {
    const result = await dryRun(x, deps.requestTimeoutMs);
    if (!result.ok) {
      if ('error' in result) {
        return refusal(502, 'upstream-unavailable', `airlock could not ask the cluster what this ${format} body would produce (${result.error}), so it was not forwarded`);
      }
      if (result.status === 401) {
        return refusal(502, 'upstream-refused', refusedCredential(x.conn?.upstream.name ?? '', `this ${format} body could not be read by a dry-run and the request was not forwarded`));
      }
      // The cluster refused the dry-run; the real request would fare the same. Its answer goes back as is.
      return refusal(result.status, 'upstream-refused', 'the cluster refused the dry-run of this request', {
        details: { upstreamBody: result.body, upstreamContentType: result.contentType },
      });
    }
    x.object = result.object;
    if (isSecret && findMaskedPlaceholders(result.object).length > 0) {
      return refusal(400, 'bad-request', placeholderWriteError(findMaskedPlaceholders(result.object)).message);
    }
    if (parsed === undefined) parsed = result.object;
  } else if (writesObject && !isPatchFormat(format)) {
    x.object = parsed;
  }
  x.recordedRequest = recordedBody(parsed, isSecret, info, contentType, format === 'protobuf', deps);
  return undefined;
}

/**
 * recordedBody is the ledger's copy: Secret values and tokens masked, credentials that other
 * objects carry in the clear masked (recorded-body.ts), protobuf replaced by its JSON form.
 */
function recordedBody(parsed: unknown, isSecret: boolean, info: RequestInfo, contentType: string | undefined, fromProtobuf: boolean, deps: InterpretDeps): PayloadInput {
  let value = isSecret ? maskSecretWriteBody(parsed, deps.placeholder) : parsed;
  // A TokenReview's token, or the token a TokenRequest's dry run already answered.
  const tokens = tokenSectionOf(info);
  if (tokens) value = maskToken(value, tokens, deps.placeholder);
  return {
    contentType: fromProtobuf ? 'application/json' : contentType ?? 'application/json',
    body: maskRecordedJson(JSON.stringify(value ?? null), deps.streamDetectors),
  };
}
