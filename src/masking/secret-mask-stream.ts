/**
 * Streaming Secret masking for Kubernetes JSON responses: response bytes in, in chunks of any
 * size, masked JSON bytes out, with memory bounded by the largest single object.
 *
 * The caller decides that a response needs masking (request info says group "", resource
 * `secrets`) and which shape to expect:
 *
 * | shape    | response                                                | held at once          |
 * |----------|---------------------------------------------------------|-----------------------|
 * | `object` | get, create/update/patch echo, delete answer, a Status   | the whole object      |
 * | `list`   | SecretList or PartialObjectMetadataList page            | one item              |
 * | `table`  | Table (`as=Table`), rows with includeObject=None/Metadata/Object | one row      |
 * | `watch`  | watch stream (incl. watch-list initial events, Table watches) | one event        |
 * | `auto`   | any of the above                                        | one item, row or event |
 *
 * A list or Table whose array is found is streamed item by item; anything else (an error
 * `Status` on a list request, say) is held whole and masked as what it is. Each watch event is
 * emitted in the same `push` that completes it, never waiting for the next chunk.
 *
 * Break-glass: when policy lets a caller see clear values (MaskPlan `secrets: 'clear'`), the
 * caller does not create a masker at all; the decision and its rule are in the ledger entry,
 * which is where an auditor finds who saw clear values and why.
 *
 * Failure: invalid JSON, a stream cut inside a value, or an object over `maxObjectBytes`
 * makes `push`/`flush` throw (the Transform emits 'error') with AIRLOCK_MASK_INVALID_JSON or
 * AIRLOCK_MASK_TOO_LARGE; nothing more is emitted after that, so the gateway must abort the
 * response (the status line is usually already sent).
 *
 * How: JsonSplitter cuts the bytes into pieces (an item, a row, an event, a whole value);
 * each piece is validated and masked by splicing placeholders into its bytes (secret-rewriter),
 * so formatting is kept and untouched pieces pass byte for byte. Shapes the rewriter does not
 * splice (a Table inside a watch event, a list fetched as `object`) are parsed and masked whole
 * (response-value) and re-serialised compactly.
 *
 * Boundaries: imports no protocol code and opens no socket.
 */
import { Transform } from 'node:stream';
import { AirlockError } from '../errors.js';
import { JsonSplitter, type ContainerKey, type SplitSink } from './json-splitter.js';
import type { Placeholder } from './placeholder.js';
import { joinParts, rewriteSecretValue, type Part } from './secret-rewriter.js';
import { itemKindOf, maskListEnvelope, maskResponseValue, maskTableRow, type ResponseMasking } from './response-value.js';

/** SecretMaskShape is the response shape the caller expects (see the module table). */
export type SecretMaskShape = 'object' | 'list' | 'table' | 'watch' | 'auto';

/**
 * DEFAULT_MAX_OBJECT_BYTES caps one object (a get, an item, a row, an event): 16 MiB. The
 * apiserver keeps a Secret's data under 1 MiB and any object under etcd's ~1.5 MiB request
 * limit, so this leaves room for pretty printing and is still a bound on memory.
 */
export const DEFAULT_MAX_OBJECT_BYTES = 16 * 1024 * 1024;

/** SecretMaskOptions configure one response's masker. */
export interface SecretMaskOptions {
  shape: SecretMaskShape;
  placeholder: Placeholder;
  /** assumeSecret (default true) treats kind-less and metadata-only objects as Secrets. */
  assumeSecret?: boolean;
  /** maxObjectBytes (default 16 MiB) caps one object; a larger one fails the stream. */
  maxObjectBytes?: number;
}

/** SecretMasker is the push/flush core behind the Transform, for callers that own the loop. */
export interface SecretMasker {
  /** push masks a chunk and returns what can be emitted now (maybe empty); throws on bad input. */
  push(chunk: Uint8Array): Buffer;
  /** flush checks the response ended between values and returns the rest; throws if not. */
  flush(): Buffer;
}

const shapes: Record<SecretMaskShape, { streamContainers: boolean; multipleValues: boolean }> = {
  object: { streamContainers: false, multipleValues: false },
  list: { streamContainers: true, multipleValues: false },
  table: { streamContainers: true, multipleValues: false },
  watch: { streamContainers: false, multipleValues: true },
  auto: { streamContainers: true, multipleValues: true },
};

/**
 * createSecretMasker returns the push/flush core of a mask stream; it throws
 * AIRLOCK_CONFIG_INVALID for an unknown shape or a non-positive size cap.
 */
export function createSecretMasker(options: SecretMaskOptions): SecretMasker {
  const shape = shapes[options.shape];
  const maxValueBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  if (!shape) throw new AirlockError('AIRLOCK_CONFIG_INVALID', `unknown mask shape "${String(options.shape)}"`);
  if (!(maxValueBytes > 0)) throw new AirlockError('AIRLOCK_CONFIG_INVALID', 'maxObjectBytes must be positive');
  const masking: ResponseMasking = { placeholder: options.placeholder, assumeSecret: options.assumeSecret ?? true };
  const sink = new MaskingSink(masking);
  const splitter = new JsonSplitter({ ...shape, maxValueBytes }, sink);
  return {
    push(chunk) {
      splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      return sink.take();
    },
    flush() {
      splitter.end();
      return sink.take();
    },
  };
}

/**
 * createSecretMaskStream returns a Transform that masks Secret values in a Kubernetes JSON
 * response; it emits 'error' (and nothing more) on invalid JSON or an oversized object.
 * Back-pressure is the Transform's: a chunk is not taken until its output was read.
 *
 * @example
 * await pipeline(upstreamBody, createSecretMaskStream({ shape: 'watch', placeholder }), clientResponse);
 */
export function createSecretMaskStream(options: SecretMaskOptions): Transform {
  const masker = createSecretMasker(options);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      let out: Buffer;
      try {
        out = masker.push(chunk);
      } catch (err) {
        callback(err as Error);
        return;
      }
      callback(null, out.length > 0 ? out : undefined);
    },
    flush(callback) {
      let out: Buffer;
      try {
        out = masker.flush();
      } catch (err) {
        callback(err as Error);
        return;
      }
      callback(null, out.length > 0 ? out : undefined);
    },
  });
}

/** MaskingSink masks each piece the splitter reports (fast path first) and collects the output of one push. */
class MaskingSink implements SplitSink {
  private out: Part[] = [];
  private itemKind: string | undefined;

  constructor(private readonly masking: ResponseMasking) {}

  onRaw(bytes: Buffer): void {
    this.emit(bytes);
  }

  onValue(bytes: Buffer): void {
    const fast = rewriteSecretValue(bytes, this.masking, 'value');
    if (fast !== 'slow') return fast === 'unchanged' ? this.emit(bytes) : this.emitParts(fast);
    const value = parse(bytes, 'a response object');
    this.emitValue(bytes, value, maskResponseValue(value, this.masking));
  }

  onEnvelope(bytes: Buffer, envelope: Record<string, unknown>, key: ContainerKey): void {
    this.itemKind = itemKindOf(envelope.kind);
    if (!maskListEnvelope(envelope, this.masking)) {
      this.emit(bytes);
      return;
    }
    const members = JSON.stringify(envelope).slice(0, -1);
    this.emit(Buffer.from(`${members}${members === '{' ? '' : ','}${JSON.stringify(key)}:[`));
  }

  onElement(bytes: Buffer, key: ContainerKey): void {
    const fast = rewriteSecretValue(bytes, this.masking, key === 'rows' ? 'row' : 'item', this.itemKind);
    if (fast !== 'slow') return fast === 'unchanged' ? this.emit(bytes) : this.emitParts(fast);
    const value = parse(bytes, key === 'rows' ? 'a table row' : 'a list item');
    const changed = key === 'rows' ? maskTableRow(value, this.masking) : maskResponseValue(value, this.masking, this.itemKind);
    this.emitValue(bytes, value, changed);
  }

  /** take returns everything emitted since the last take, as one buffer (a copy: parts may alias the input). */
  take(): Buffer {
    const out = joinParts(this.out);
    this.out = [];
    return out;
  }

  private emitValue(bytes: Buffer, value: unknown, changed: boolean): void {
    this.emit(changed ? JSON.stringify(value) : bytes);
  }

  private emitParts(parts: Part[]): void {
    for (const part of parts) this.out.push(part);
  }

  private emit(part: Part): void {
    if (part.length > 0) this.out.push(part);
  }
}

/** parse reads one piece; its error names no content, since the content may be a Secret. */
function parse(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new AirlockError('AIRLOCK_MASK_INVALID_JSON', `${what} does not parse as JSON`);
  }
}
