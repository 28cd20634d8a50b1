/**
 * SPDY/3.1 framing: bytes in, frames out, for the SPDY sessions Kubernetes uses for exec, attach,
 * cp and port-forward (client-go's `httpstream/spdy` on github.com/moby/spdystream).
 *
 * Why this exists: airlock records every stream of a session, so it must know where each frame
 * starts and ends, which stream it belongs to, and when a stream opens, closes or is reset.
 *
 * Boundaries: this file opens no socket, keeps no state and never decompresses header blocks
 * (that needs per-session zlib state: `spdy-headers.ts`). `decodeFrames` reads only complete
 * frames and says how many bytes it used; the caller keeps the rest (`SpdyFrameReader` does).
 * Anything it cannot read is an `AirlockError`, never a crash and never a guess: SPDY draft 3.1
 * says to ignore unknown control frames, but a recorder that skipped one could relay what it
 * never read, so airlock ends the session instead.
 *
 * Wire format (SPDY draft 3.1 §2.2): control frames start with the control bit, version 3 and a
 * 16-bit type; data frames with a 31-bit stream id. Both then carry 8 bits of flags and a 24-bit
 * length, followed by `length` bytes.
 */
import { AirlockError } from '../../../../errors.js';

/** The only SPDY version Kubernetes speaks (`Upgrade: SPDY/3.1`; frames carry version 3). */
export const spdyVersion = 3;
/** The size of every frame header, control or data. */
export const frameHeaderLength = 8;
/** The largest length the 24-bit field can carry; spdystream's `MaxDataLength`. */
export const maxFrameLength = 0xffffff;

/** Control frame types of SPDY/3.1 that client-go and the kubelet exchange (draft 3.1 §2.6). */
export const controlFrameTypes = {
  'syn-stream': 1,
  'syn-reply': 2,
  'rst-stream': 3,
  settings: 4,
  ping: 6,
  goaway: 7,
  headers: 8,
  'window-update': 9,
} as const;

export type ControlFrameKind = keyof typeof controlFrameTypes;
const kindByType = new Map<number, ControlFrameKind>(
  Object.entries(controlFrameTypes).map(([kind, type]) => [type, kind as ControlFrameKind]),
);

/** FLAG_FIN: the sender sends nothing more on this stream (data, SYN_STREAM, SYN_REPLY, HEADERS). */
export const flagFin = 0x01;
/** FLAG_UNIDIRECTIONAL on SYN_STREAM: the receiver must not answer with data. */
export const flagUnidirectional = 0x02;

/** A DATA frame: payload bytes for one stream. */
export interface DataFrame { readonly type: 'data'; readonly streamId: number; readonly flags: number; readonly fin: boolean; readonly data: Uint8Array }
/** SYN_STREAM opens a stream; its header block is still compressed (see spdy-headers.ts). */
export interface SynStreamFrame {
  readonly type: 'syn-stream'; readonly streamId: number; readonly associatedToStreamId: number;
  readonly priority: number; readonly slot: number; readonly flags: number; readonly fin: boolean;
  readonly unidirectional: boolean; readonly headerBlock: Uint8Array;
}
/** SYN_REPLY accepts a stream opened by the peer; client-go waits for it before using a stream. */
export interface SynReplyFrame { readonly type: 'syn-reply'; readonly streamId: number; readonly flags: number; readonly fin: boolean; readonly headerBlock: Uint8Array }
/** RST_STREAM aborts one stream with a status (1 PROTOCOL_ERROR … 11 FRAME_TOO_LARGE). */
export interface RstStreamFrame { readonly type: 'rst-stream'; readonly streamId: number; readonly status: number }
export interface SettingsEntry { readonly flags: number; readonly id: number; readonly value: number }
export interface SettingsFrame { readonly type: 'settings'; readonly flags: number; readonly entries: readonly SettingsEntry[] }
export interface PingFrame { readonly type: 'ping'; readonly id: number }
export interface GoawayFrame { readonly type: 'goaway'; readonly lastGoodStreamId: number; readonly status: number }
export interface HeadersFrame { readonly type: 'headers'; readonly streamId: number; readonly flags: number; readonly fin: boolean; readonly headerBlock: Uint8Array }
export interface WindowUpdateFrame { readonly type: 'window-update'; readonly streamId: number; readonly deltaWindowSize: number }

export type SpdyFrame =
  | DataFrame | SynStreamFrame | SynReplyFrame | RstStreamFrame | SettingsFrame
  | PingFrame | GoawayFrame | HeadersFrame | WindowUpdateFrame;

/** A decoded frame with the exact bytes it came from, so a relay can forward them unchanged. */
export interface DecodedFrame { readonly frame: SpdyFrame; readonly raw: Uint8Array }

export interface DecodeLimits {
  /** Largest control frame accepted; client-go's are a few hundred bytes. Default 1 MiB. */
  readonly maxControlFrameLength?: number;
  /** Largest DATA frame accepted; client-go writes at most 32 KiB. Default: the protocol maximum. */
  readonly maxDataFrameLength?: number;
}

export interface DecodeResult { readonly frames: DecodedFrame[]; readonly consumed: number }

/** Why a frame was refused, for `AirlockError.details.reason` (tests and logs match on it). */
export type FrameErrorReason =
  | 'bad-version' | 'unknown-type' | 'bad-length' | 'too-large' | 'zero-stream-id'
  | 'zero-status' | 'bad-flags';

function frameError(reason: FrameErrorReason, detail: string, streamId?: number): AirlockError {
  const code = reason === 'too-large' ? 'AIRLOCK_SPDY_FRAME_TOO_LARGE' : 'AIRLOCK_SPDY_FRAME_INVALID';
  return new AirlockError(code, detail, { details: { reason, ...(streamId === undefined ? {} : { streamId }) } });
}

/**
 * decodeFrames reads every complete frame at the start of `bytes` and returns them with the
 * number of bytes they span; a trailing fragment is left for the caller. It throws an
 * AirlockError (AIRLOCK_SPDY_FRAME_INVALID or AIRLOCK_SPDY_FRAME_TOO_LARGE, `details.reason`)
 * for the first frame it cannot read, as soon as that frame's 8-byte header shows it.
 * Returned frames own copies of their bytes.
 *
 * @example
 * const { frames, consumed } = decodeFrames(chunk);
 * pending = chunk.subarray(consumed);
 */
export function decodeFrames(bytes: Uint8Array, limits: DecodeLimits = {}): DecodeResult {
  const maxControl = limits.maxControlFrameLength ?? 1 << 20;
  const maxData = limits.maxDataFrameLength ?? maxFrameLength;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: DecodedFrame[] = [];
  let offset = 0;
  while (bytes.byteLength - offset >= frameHeaderLength) {
    const first = view.getUint32(offset);
    const flagsAndLength = view.getUint32(offset + 4);
    const flags = flagsAndLength >>> 24;
    const length = flagsAndLength & 0xffffff;
    const isControl = (first & 0x80000000) !== 0;
    checkHeader(first, isControl, length, isControl ? maxControl : maxData);
    const end = offset + frameHeaderLength + length;
    if (end > bytes.byteLength) break;
    // new Uint8Array(view) copies; Buffer#slice would not (it is subarray on Buffers).
    const raw = new Uint8Array(bytes.subarray(offset, end));
    const body = raw.subarray(frameHeaderLength);
    const frame = isControl
      ? readControlFrame(kindByType.get(first & 0xffff) as ControlFrameKind, flags, body)
      : readDataFrame(first & 0x7fffffff, flags, body);
    frames.push({ frame, raw });
    offset = end;
  }
  return { frames, consumed: offset };
}

/** checkHeader refuses what the 8-byte header alone proves unreadable, before any body arrives. */
function checkHeader(first: number, isControl: boolean, length: number, limit: number): void {
  if (isControl) {
    const version = (first >>> 16) & 0x7fff;
    if (version !== spdyVersion) throw frameError('bad-version', `control frame version ${version}, expected ${spdyVersion}`);
    const type = first & 0xffff;
    if (!kindByType.has(type)) throw frameError('unknown-type', `control frame type ${type}`);
  }
  if (length > limit) throw frameError('too-large', `${isControl ? 'control' : 'data'} frame of ${length} bytes, limit ${limit}`);
}

function readDataFrame(streamId: number, flags: number, body: Uint8Array): DataFrame {
  if (streamId === 0) throw frameError('zero-stream-id', 'DATA frame on stream 0');
  return { type: 'data', streamId, flags, fin: (flags & flagFin) !== 0, data: body };
}

/** Fixed part of each control frame before its header block, or its exact length. */
const minimumLength: Record<ControlFrameKind, number> = {
  'syn-stream': 10, 'syn-reply': 4, 'rst-stream': 8, settings: 4, ping: 4, goaway: 8, headers: 4, 'window-update': 8,
};
const exactLength = new Set<ControlFrameKind>(['rst-stream', 'ping', 'goaway', 'window-update']);

function readControlFrame(kind: ControlFrameKind, flags: number, body: Uint8Array): SpdyFrame {
  const need = minimumLength[kind];
  if (body.byteLength < need || (exactLength.has(kind) && body.byteLength !== need)) {
    throw frameError('bad-length', `${kind} frame of ${body.byteLength} bytes, expected ${exactLength.has(kind) ? '' : 'at least '}${need}`);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const fin = (flags & flagFin) !== 0;
  switch (kind) {
    case 'syn-stream': {
      const streamId = streamIdAt(view, 0, kind);
      return {
        type: kind, streamId, associatedToStreamId: view.getUint32(4) & 0x7fffffff,
        priority: (body[8] ?? 0) >>> 5, slot: body[9] ?? 0, flags, fin,
        unidirectional: (flags & flagUnidirectional) !== 0, headerBlock: body.subarray(10),
      };
    }
    case 'syn-reply':
    case 'headers':
      return { type: kind, streamId: streamIdAt(view, 0, kind), flags, fin, headerBlock: body.subarray(4) };
    case 'rst-stream': {
      const streamId = streamIdAt(view, 0, kind);
      const status = view.getUint32(4);
      if (status === 0) throw frameError('zero-status', 'RST_STREAM with status 0', streamId);
      return { type: kind, streamId, status };
    }
    case 'settings':
      return readSettings(view, flags);
    case 'ping':
      // spdystream refuses flags on PING; a ping id of 0 is refused likewise (read.go).
      if (flags !== 0) throw frameError('bad-flags', `PING with flags ${flags}`);
      if (view.getUint32(0) === 0) throw frameError('zero-stream-id', 'PING with id 0');
      return { type: kind, id: view.getUint32(0) };
    case 'goaway':
      if (flags !== 0) throw frameError('bad-flags', `GOAWAY with flags ${flags}`);
      return { type: kind, lastGoodStreamId: view.getUint32(0) & 0x7fffffff, status: view.getUint32(4) };
    case 'window-update':
      if (flags !== 0) throw frameError('bad-flags', `WINDOW_UPDATE with flags ${flags}`);
      return { type: kind, streamId: view.getUint32(0) & 0x7fffffff, deltaWindowSize: view.getUint32(4) & 0x7fffffff };
  }
}

/** streamIdAt reads a 31-bit stream id; 0 never names a stream (spdystream: ZeroStreamId). */
function streamIdAt(view: DataView, at: number, kind: ControlFrameKind): number {
  const streamId = view.getUint32(at) & 0x7fffffff;
  if (streamId === 0) throw frameError('zero-stream-id', `${kind} frame on stream 0`);
  return streamId;
}

function readSettings(view: DataView, flags: number): SettingsFrame {
  const count = view.getUint32(0);
  if (view.byteLength !== 4 + count * 8) {
    throw frameError('bad-length', `SETTINGS frame of ${view.byteLength} bytes for ${count} entries`);
  }
  const entries: SettingsEntry[] = [];
  for (let i = 0; i < count; i++) {
    const flagsAndId = view.getUint32(4 + i * 8);
    entries.push({ flags: flagsAndId >>> 24, id: flagsAndId & 0xffffff, value: view.getUint32(8 + i * 8) });
  }
  return { type: 'settings', flags, entries };
}
