/**
 * Forwarding a decided Kubernetes request upstream and streaming the answer back.
 *
 * - Ordinary requests: the masked response is buffered up to the recording cap; the response
 *   entry is written before a byte is released. A larger response starts flowing once the
 *   cap is passed, and its final byte is held until its entry is durable.
 * - Long-running requests (watch, `logs -f`, proxy): each chunk is masked, recorded as a
 *   `stream` entry, then released, with back-pressure from the client to the cluster and no
 *   timeouts. The closing response entry sums them up.
 * - Secrets are masked on the way back unless policy decided the caller may see them.
 * - Container logs, and text a proxy request fetches from a pod, service or node, are masked with
 *   the gateway's stream detectors plus those the decision adds.
 * - A TokenRequest's minted token is masked like a Secret value; a TokenReview's token is kept
 *   out of the record (token-objects.ts).
 * Upstream failures become a Status (502/503/504) when nothing was sent yet; otherwise the
 * client connection is cut, because a half-sent body cannot carry an error.
 */
import { createGunzip, createInflate } from 'node:zlib';
import type { Readable, Transform } from 'node:stream';
import { errors as undiciErrors } from 'undici';
import type { ResponseRecorder } from '../../gateway/adapter.js';
import { LEDGER_RETRY_AFTER_SECONDS } from '../../gateway/recording.js';
import type { Logger } from '../../log.js';
import { createSecretMasker, maskRecordedJson, maskRecordedLines, maskRecordedText, type Placeholder, type SecretMasker } from '../../masking/index.js';
import { createStreamMasker, type StreamMasker } from '../../masking/stream-masker.js';
import type { Detector } from '../../masking/detectors/detector.js';
import { isNegotiationExempt, rewriteAccept } from './content-negotiation.js';
import type { KubeExchange } from './kube-exchange.js';
import { isLongRunning } from './long-running.js';
import { ResponseCapture } from './response-capture.js';
import { badGateway, gatewayTimeout, serviceUnavailable, type StatusResponse } from './status.js';
import { isAirlockError } from '../../errors.js';
import { sha256Hex } from '../../ledger/canonical.js';
import { clientHeaders, upstreamHeaders } from './upstream-headers.js';
import { maskTokenBody, tokenSectionOf, type TokenSection } from './token-objects.js';
import { refusedCredential, sendRenewing, upstreamPath } from './upstream/index.js';
import { noteMaskDetectors, requestDetectors } from './streams/request-detectors.js';

export interface ForwardDeps {
  placeholder: Placeholder;
  /** Bytes of each response (or stream part) kept in the ledger. */
  bodyLimit: number;
  /** Timeout for ordinary (not long-running) requests, ms. */
  requestTimeoutMs: number;
  /** Detectors masking secrets in container logs (`pods/log`), proxied text and recorded copies; a decision may add more for logs and proxies. */
  textDetectors: readonly Detector[];
  logger: Logger;
}

/** How long log output held back for a possible secret may wait before it is released. */
const LOG_IDLE_FLUSH_MS = 50;

/** carriesSecrets: the response is about Secrets (core group, resource `secrets`). */
export function carriesSecrets(x: KubeExchange): boolean {
  const info = x.info;
  return Boolean(info?.isResourceRequest && info.apiGroup === '' && info.resource === 'secrets');
}

/** masksSecrets: the response carries Secret values, and policy did not grant the caller clear values. */
export function masksSecrets(x: KubeExchange): boolean {
  return carriesSecrets(x) && x.decision?.mask?.secrets !== 'clear';
}

/** What one upstream chunk becomes: the bytes for the client and the bytes for the ledger. */
interface Parts {
  client: Buffer;
  record: Buffer;
}

/**
 * Transcode masks for the client and, separately, for the record: a break-glass caller gets
 * clear values, but the ledger still stores the masked copy — the clear value never enters it.
 */
interface Transcode {
  step(chunk: Buffer): Parts;
  flush(): Parts;
  /** idle releases what is held back for a possible secret when the stream pauses (text only). */
  idle?(): Parts;
}

/** textTranscoder masks secrets in text (container logs, proxied answers): the client and the ledger get the same masked bytes. */
function textTranscoder(masker: StreamMasker): Transcode {
  const both = (out: Buffer): Parts => ({ client: out, record: out });
  return { step: (chunk) => both(masker.push(chunk)), flush: () => both(masker.flush()), idle: () => both(masker.flush()) };
}

function transcoder(forClient: SecretMasker | undefined, forRecord: SecretMasker | undefined): Transcode {
  const empty = Buffer.alloc(0);
  if (forClient) {
    return {
      step: (chunk) => {
        const out = forClient.push(chunk);
        return { client: out, record: out };
      },
      flush: () => {
        const out = forClient.flush();
        return { client: out, record: out };
      },
    };
  }
  if (forRecord) {
    return {
      step: (chunk) => ({ client: chunk, record: forRecord.push(chunk) }),
      flush: () => ({ client: empty, record: forRecord.flush() }),
    };
  }
  return { step: (chunk) => ({ client: chunk, record: chunk }), flush: () => ({ client: empty, record: empty }) };
}

/** maskRecordedBody masks the credentials in the ledger's copy of an answer: as JSON when it is whole JSON, else as text. */
function maskRecordedBody(body: Buffer, whole: boolean, contentType: string | undefined, detectors: readonly Detector[]): Buffer {
  if (whole && isJson(contentType)) {
    const text = body.toString('utf8');
    const masked = maskRecordedJson(text, detectors);
    return masked === text ? body : Buffer.from(masked, 'utf8');
  }
  return maskRecordedText(body, detectors);
}

/** Media types that are not text: proxied answers of these pass as they are (masking would corrupt them), and no record is masked as text. */
const BINARY = /^(?:image|audio|video|font)\/|^application\/(?:octet-stream|zip|gzip|x-gzip|x-tar|pdf|wasm|vnd\.kubernetes\.protobuf|protobuf|x-protobuf|grpc|cbor)\b|^application\/[^;\s]*\+(?:protobuf|cbor)\b/i;

function isBinary(contentType: string | undefined): boolean {
  return contentType !== undefined && BINARY.test(contentType.trim());
}

/** The largest answer read whole to mask a token in it (a TokenRequest answer is about 1 KiB). */
const TOKEN_BODY_LIMIT = 1024 * 1024;

/**
 * tokenTranscoder reads a TokenRequest or TokenReview answer whole and masks its token: always
 * in the record, and for the client when `forClient`. An answer that is too large or not JSON is
 * not released (fail closed).
 */
function tokenTranscoder(section: TokenSection, options: { forClient: boolean; placeholder: Placeholder }): Transcode {
  const empty = Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    step: (chunk) => {
      size += chunk.length;
      if (size > TOKEN_BODY_LIMIT) throw new Error(`the cluster's token answer is larger than ${TOKEN_BODY_LIMIT} bytes`);
      chunks.push(chunk);
      return { client: empty, record: empty };
    },
    flush: () => {
      const body = Buffer.concat(chunks, size);
      const masked = maskTokenBody(body, section, options.placeholder);
      if (!masked) throw new Error('the cluster answered a token request with a body that is not JSON, so its token could not be masked');
      return { client: options.forClient ? masked : body, record: masked };
    },
  };
}

export async function forwardKubernetes(x: KubeExchange, gatewayRecord: ResponseRecorder, deps: ForwardDeps): Promise<void> {
  const { conn, info, req, res } = x;
  if (!conn || !info || x.target === undefined || !x.identity) throw new Error('forward needs the connection, request info and identity');
  // Container logs, and what a proxy fetches from inside the cluster (a pod's, a service's or a
  // node's HTTP answer), carry whatever an application wrote: the stream detectors mask their
  // text, with those the decision adds for this caller (named in the final entry when any).
  const isLog = info.subresource === 'log';
  const isProxy = info.subresource === 'proxy' || info.verb === 'proxy';
  const textDetectors = isLog || isProxy ? requestDetectors(deps.textDetectors, x.decision) : deps.textDetectors;
  const record = isLog || isProxy ? noteMaskDetectors(gatewayRecord, textDetectors, x.decision) : gatewayRecord;
  const longRunning = isLongRunning(info);
  const mask = masksSecrets(x);
  const abort = new AbortController();
  const onClientGone = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.once('close', onClientGone);

  const { identity, target } = x;
  const send = () =>
    conn.upstream.dispatcher.request({
      origin: conn.upstream.baseUrl.origin,
      path: upstreamPath(conn.upstream, target),
      method: req.method as 'GET',
      headers: upstreamHeaders(req.headers, {
        authorization: conn.upstream.authorization(),
        impersonation: x.impersonation ?? conn.impersonate(identity),
        auditId: x.id,
        accept: info.isResourceRequest && !isNegotiationExempt(info) ? rewriteAccept(req.headers.accept) : undefined,
      }),
      body: x.body && x.body.length > 0 ? x.body : null,
      signal: abort.signal,
      headersTimeout: longRunning ? 0 : deps.requestTimeoutMs,
      bodyTimeout: longRunning ? 0 : deps.requestTimeoutMs,
    });
  let upstream;
  try {
    upstream = await sendRenewing(conn.upstream, send);
  } catch (err) {
    const status = upstreamFailure(err, conn.upstream.name);
    await record.response({ status: status.statusCode, data: { error: status.status.message } }).catch(() => undefined);
    sendStatus(res, status);
    return;
  }
  if (upstream.statusCode === 401) {
    await upstream.body.dump().catch(() => undefined);
    const status = badGateway(refusedCredential(conn.upstream.name, 'the request was not carried out'));
    await record.response({ status: status.statusCode, data: { error: status.status.message, upstreamStatus: 401 } }).catch(() => undefined);
    sendStatus(res, status);
    return;
  }

  const contentType = headerValue(upstream.headers['content-type']);
  const encoding = headerValue(upstream.headers['content-encoding'])?.toLowerCase();
  // Bodies airlock must read (to mask or to record) are decoded; the client then gets identity encoding.
  const decode = encoding === 'gzip' || encoding === 'deflate';
  let source: Readable = upstream.body;
  if (decode) source = upstream.body.pipe(encoding === 'gzip' ? createGunzip() : createInflate()) as Transform;
  const secrets = carriesSecrets(x) && upstream.statusCode < 300;
  const newMasker = () => createSecretMasker({ shape: info.verb === 'watch' ? 'watch' : 'auto', placeholder: deps.placeholder });
  const masker: SecretMasker | undefined = secrets && mask ? newMasker() : undefined;
  const recordMasker: SecretMasker | undefined = secrets && !mask ? newMasker() : undefined;
  if (secrets && !isJson(contentType)) {
    // Fail closed: a Secret response airlock cannot parse is never released.
    upstream.body.destroy();
    const status = badGateway(`airlock could not read the cluster's ${contentType ?? 'untyped'} response to mask it; nothing was released`);
    await record.response({ status: status.statusCode, data: { error: status.status.message } }).catch(() => undefined);
    sendStatus(res, status);
    return;
  }
  const headers = clientHeaders(upstream.headers, decode || masker ? ['content-length', 'content-encoding'] : []);
  // Log text is masked for the caller too, and so is a proxied answer unless it is plainly binary
  // (masking would corrupt it); one without a type is read as text.
  const binary = isBinary(contentType);
  const maskText = (isLog && upstream.statusCode < 300) || (isProxy && !binary);
  // A binary answer from inside the cluster cannot be scanned for secrets: it is recorded by size and digest only.
  const opaque = isProxy && binary;
  // Every other answer's recorded copy has the credentials objects carry in the clear masked (ConfigMap keys, env literals).
  const recordDetectors = maskText || binary ? undefined : textDetectors;
  const capture = new ResponseCapture(deps.bodyLimit, recordDetectors ? (body, whole) => maskRecordedBody(body, whole, contentType, recordDetectors) : undefined);
  // A minted service-account token, or a reviewed one: never in the ledger, and masked for the caller unless policy says otherwise.
  const tokens = upstream.statusCode < 300 ? tokenSectionOf(info) : undefined;
  const transcode = maskText
    ? textTranscoder(createStreamMasker({ detectors: textDetectors, replacement: (kind) => `[masked ${kind}]` }))
    : tokens
      ? tokenTranscoder(tokens, { forClient: tokens === 'status' && x.decision?.mask?.secrets !== 'clear', placeholder: deps.placeholder })
      : transcoder(masker, recordMasker);
  // Masking changes the length.
  if (tokens || maskText) delete headers['content-length'];

  try {
    if (longRunning) {
      await streamLongRunning(x, source, transcode, upstream.statusCode, headers, contentType, record, capture, deps, { opaque, recordDetectors });
    } else {
      await streamOrdinary(x, source, transcode, upstream.statusCode, headers, contentType, record, capture);
    }
  } catch (err) {
    upstream.body.destroy();
    const aborted = abort.signal.aborted;
    const message = aborted ? 'the client went away' : err instanceof Error ? err.message : String(err);
    await record
      .response({ status: upstream.statusCode, body: capture.payload(contentType), data: { error: message, aborted, bytes: capture.size } })
      .catch(() => undefined);
    if (!res.headersSent && !aborted) {
      // The response could not be recorded: that is airlock's outage, not the cluster's.
      const unrecorded = isAirlockError(err, 'AIRLOCK_LEDGER_UNAVAILABLE');
      sendStatus(
        res,
        unrecorded
          ? serviceUnavailable(`airlock could not record the cluster's response, so it was not released: ${message}`, LEDGER_RETRY_AFTER_SECONDS)
          : badGateway(`airlock could not pass on the cluster's response: ${message}`),
      );
    } else {
      res.destroy();
    }
  } finally {
    res.off('close', onClientGone);
  }
}

async function streamOrdinary(
  x: KubeExchange,
  source: Readable,
  transcode: Transcode,
  status: number,
  headers: Record<string, string | string[]>,
  contentType: string | undefined,
  record: ResponseRecorder,
  capture: ResponseCapture,
): Promise<void> {
  const { res } = x;
  const held: Buffer[] = [];
  let heldBytes = 0;
  let flowing = false;
  const limit = Math.max(64 * 1024, capture.limit);
  for await (const chunk of source) {
    const { client: out, record: kept } = transcode.step(chunk as Buffer);
    capture.add(kept);
    if (out.length === 0) continue;
    if (flowing) {
      await write(res, out);
      continue;
    }
    held.push(out);
    heldBytes += out.length;
    if (heldBytes > limit) {
      res.writeHead(status, headers);
      for (const part of held.splice(0)) await write(res, part);
      flowing = true;
    }
  }
  const { client: tail, record: keptTail } = transcode.flush();
  capture.add(keptTail);
  // The record before the release: the final byte waits for a durable entry.
  await record.response({ status, body: capture.payload(contentType), data: { bytes: capture.size } });
  if (!flowing) {
    if (!('content-length' in headers) || heldBytes + tail.length !== Number(headers['content-length'])) {
      headers['content-length'] = String(heldBytes + tail.length);
    }
    res.writeHead(status, headers);
    for (const part of held) res.write(part);
  }
  res.end(tail);
}

async function streamLongRunning(
  x: KubeExchange,
  source: Readable,
  transcode: Transcode,
  status: number,
  headers: Record<string, string | string[]>,
  contentType: string | undefined,
  record: ResponseRecorder,
  capture: ResponseCapture,
  deps: ForwardDeps,
  recording: { opaque: boolean; recordDetectors: readonly Detector[] | undefined },
): Promise<void> {
  const { opaque, recordDetectors } = recording;
  const { res } = x;
  res.writeHead(status, headers);
  res.flushHeaders();
  let parts = 0;
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const enqueue = (p: Parts) => (chain = chain.then(() => release(p)));
  const release = async ({ client: out, record: rec }: Parts) => {
    if (out.length === 0 && rec.length === 0) return;
    capture.add(rec);
    parts++;
    let kept = opaque ? rec.subarray(0, 0) : rec.length > deps.bodyLimit ? rec.subarray(0, deps.bodyLimit) : rec;
    if (recordDetectors && kept.length > 0) kept = isJson(contentType) ? maskRecordedLines(kept, recordDetectors) : maskRecordedText(kept, recordDetectors);
    const full = opaque ? { fullSize: rec.length, fullSha256: sha256Hex(rec) } : kept.length < rec.length ? { fullSize: rec.length } : {};
    await record.stream({ body: { ...(contentType ? { contentType } : {}), body: kept, ...full } });
    if (out.length > 0) await write(res, out);
  };
  try {
    for await (const chunk of source) {
      if (timer) clearTimeout(timer);
      await enqueue(transcode.step(chunk as Buffer));
      // A pause in the stream releases what was held back for a possible secret.
      const idle = transcode.idle;
      if (idle) timer = setTimeout(() => void enqueue(idle()).catch(() => undefined), LOG_IDLE_FLUSH_MS);
    }
  } finally {
    if (timer) clearTimeout(timer);
  }
  await enqueue(transcode.flush());
  await record.response({ status, data: { streamed: true, bytes: capture.size, parts } });
  res.end();
}

function write(res: KubeExchange['res'], chunk: Buffer): Promise<void> {
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', closed);
      resolve();
    };
    const closed = () => {
      res.off('drain', done);
      reject(new Error('the client went away'));
    };
    res.once('drain', done);
    res.once('close', closed);
  });
}

/** sendStatus answers with a Status, unless something was already sent (then the connection is cut). */
export function sendStatus(res: KubeExchange['res'], status: StatusResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status.statusCode, status.headers);
  res.end(status.body);
}

function upstreamFailure(err: unknown, connection: string): StatusResponse {
  const code = (err as { code?: string }).code ?? '';
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return gatewayTimeout(`the cluster behind connection "${connection}" did not answer in time`);
  }
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code) || /certificate|TLS/i.test((err as Error).message ?? '')) {
    return badGateway(`airlock could not establish a trusted TLS connection to the cluster behind connection "${connection}" (${code || 'TLS error'}); check the upstream CA`);
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') {
    return serviceUnavailable(`the cluster behind connection "${connection}" is unreachable (${code}); try again later`, 5);
  }
  return badGateway(`the request to the cluster behind connection "${connection}" failed (${code || (err as Error).message})`);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isJson(contentType: string | undefined): boolean {
  return /^application\/json\b/i.test(contentType ?? '');
}
