/**
 * Encoders for SPDY/3.1 frames, the mirror of `spdy-frames.ts`. The gateway relays original
 * bytes; it encodes only when it must say something itself (a SYN_REPLY, a RST_STREAM, a GOAWAY)
 * or rewrite a DATA frame, e.g. stdout after masking, where the length must match the new payload.
 *
 * Header blocks are passed in already compressed (`HeaderDeflater` in spdy-headers.ts), because
 * compression state belongs to the session and direction, not to a frame.
 * Opens no socket. Each encoder throws an AirlockError (AIRLOCK_SPDY_FRAME_INVALID or
 * AIRLOCK_SPDY_FRAME_TOO_LARGE) for a value it cannot put on the wire.
 */
import { AirlockError } from '../../../../errors.js';
import {
  controlFrameTypes, flagFin, flagUnidirectional, frameHeaderLength, maxFrameLength, spdyVersion,
  type ControlFrameKind, type SettingsEntry, type SpdyFrame,
} from './spdy-frames.js';

function invalid(reason: string, detail: string): AirlockError {
  return new AirlockError('AIRLOCK_SPDY_FRAME_INVALID', detail, { details: { reason } });
}

function checkStreamId(streamId: number, what: string): void {
  if (!Number.isInteger(streamId) || streamId <= 0 || streamId > 0x7fffffff) {
    throw invalid('zero-stream-id', `${what} needs a stream id from 1 to 2^31-1, got ${streamId}`);
  }
}

function checkUint32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw invalid('bad-value', `${what} ${value} is not a 32-bit value`);
}

function controlFrame(kind: ControlFrameKind, flags: number, body: Uint8Array): Uint8Array {
  if (body.byteLength > maxFrameLength) {
    throw new AirlockError('AIRLOCK_SPDY_FRAME_TOO_LARGE', `${kind} body of ${body.byteLength} bytes`, { details: { reason: 'too-large' } });
  }
  const out = new Uint8Array(frameHeaderLength + body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0x8000 | spdyVersion);
  view.setUint16(2, controlFrameTypes[kind]);
  view.setUint32(4, ((flags & 0xff) << 24 | body.byteLength) >>> 0);
  out.set(body, frameHeaderLength);
  return out;
}

/**
 * encodeDataFrame frames `data` for one stream with a length that matches it; `fin` half-closes.
 *
 * @example
 * socket.write(encodeDataFrame(stdoutId, masked, { fin: frame.fin }));
 */
export function encodeDataFrame(streamId: number, data: Uint8Array, options: { fin?: boolean } = {}): Uint8Array {
  checkStreamId(streamId, 'DATA');
  if (data.byteLength > maxFrameLength) {
    throw new AirlockError('AIRLOCK_SPDY_FRAME_TOO_LARGE', `DATA payload of ${data.byteLength} bytes; split it`, { details: { reason: 'too-large' } });
  }
  const out = new Uint8Array(frameHeaderLength + data.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, streamId);
  view.setUint32(4, ((options.fin ? flagFin : 0) << 24 | data.byteLength) >>> 0);
  out.set(data, frameHeaderLength);
  return out;
}

export interface SynStreamInput {
  readonly streamId: number; readonly headerBlock: Uint8Array; readonly associatedToStreamId?: number;
  readonly priority?: number; readonly fin?: boolean; readonly unidirectional?: boolean;
}

/** encodeSynStream opens a stream; `headerBlock` comes from HeaderDeflater.compress. */
export function encodeSynStream(input: SynStreamInput): Uint8Array {
  checkStreamId(input.streamId, 'SYN_STREAM');
  const priority = input.priority ?? 0;
  if (!Number.isInteger(priority) || priority < 0 || priority > 7) throw invalid('bad-value', `priority ${priority} is not 0..7`);
  const body = new Uint8Array(10 + input.headerBlock.byteLength);
  const view = new DataView(body.buffer);
  view.setUint32(0, input.streamId);
  view.setUint32(4, (input.associatedToStreamId ?? 0) & 0x7fffffff);
  body[8] = priority << 5;
  body.set(input.headerBlock, 10);
  const flags = (input.fin ? flagFin : 0) | (input.unidirectional ? flagUnidirectional : 0);
  return controlFrame('syn-stream', flags, body);
}

function streamHeaderFrame(kind: 'syn-reply' | 'headers', streamId: number, headerBlock: Uint8Array, fin: boolean): Uint8Array {
  checkStreamId(streamId, kind);
  const body = new Uint8Array(4 + headerBlock.byteLength);
  new DataView(body.buffer).setUint32(0, streamId);
  body.set(headerBlock, 4);
  return controlFrame(kind, fin ? flagFin : 0, body);
}

/** encodeSynReply accepts a stream the peer opened; client-go waits for it before writing. */
export function encodeSynReply(streamId: number, headerBlock: Uint8Array, options: { fin?: boolean } = {}): Uint8Array {
  return streamHeaderFrame('syn-reply', streamId, headerBlock, options.fin ?? false);
}

/** encodeHeaders sends more headers on an open stream. */
export function encodeHeaders(streamId: number, headerBlock: Uint8Array, options: { fin?: boolean } = {}): Uint8Array {
  return streamHeaderFrame('headers', streamId, headerBlock, options.fin ?? false);
}

function twoWords(kind: ControlFrameKind, first: number, second: number): Uint8Array {
  const body = new Uint8Array(8);
  const view = new DataView(body.buffer);
  view.setUint32(0, first);
  view.setUint32(4, second);
  return controlFrame(kind, 0, body);
}

/** RST_STREAM status codes (SPDY draft 3.1 §2.6.2). */
export const rstStatus = {
  PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, UNSUPPORTED_VERSION: 4, CANCEL: 5,
  INTERNAL_ERROR: 6, FLOW_CONTROL_ERROR: 7, STREAM_IN_USE: 8, STREAM_ALREADY_CLOSED: 9,
  INVALID_CREDENTIALS: 10, FRAME_TOO_LARGE: 11,
} as const;

/** encodeRstStream aborts one stream; status 0 is refused as spdystream refuses it. */
export function encodeRstStream(streamId: number, status: number): Uint8Array {
  checkStreamId(streamId, 'RST_STREAM');
  checkUint32(status, 'RST_STREAM status');
  if (status === 0) throw invalid('zero-status', 'RST_STREAM status 0');
  return twoWords('rst-stream', streamId, status);
}

/** encodeSettings writes SETTINGS entries (id is 24 bits, flags 8 bits). */
export function encodeSettings(entries: readonly SettingsEntry[], options: { clearSettings?: boolean } = {}): Uint8Array {
  const body = new Uint8Array(4 + entries.length * 8);
  const view = new DataView(body.buffer);
  view.setUint32(0, entries.length);
  entries.forEach((entry, i) => {
    if (entry.id < 0 || entry.id > 0xffffff || entry.flags < 0 || entry.flags > 0xff) throw invalid('bad-value', `setting ${entry.id}/${entry.flags}`);
    checkUint32(entry.value, 'setting value');
    view.setUint32(4 + i * 8, (entry.flags << 24 | entry.id) >>> 0);
    view.setUint32(8 + i * 8, entry.value);
  });
  return controlFrame('settings', options.clearSettings ? 1 : 0, body);
}

/** encodePing writes a PING; the id must not be 0 (spdystream refuses it). */
export function encodePing(id: number): Uint8Array {
  checkUint32(id, 'PING id');
  if (id === 0) throw invalid('zero-stream-id', 'PING id 0');
  const body = new Uint8Array(4);
  new DataView(body.buffer).setUint32(0, id);
  return controlFrame('ping', 0, body);
}

/** GOAWAY status codes (SPDY draft 3.1 §2.6.6). */
export const goawayStatus = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const;

/** encodeGoaway ends the session after `lastGoodStreamId`. */
export function encodeGoaway(lastGoodStreamId: number, status: number = goawayStatus.OK): Uint8Array {
  checkUint32(status, 'GOAWAY status');
  return twoWords('goaway', lastGoodStreamId & 0x7fffffff, status);
}

/** encodeWindowUpdate grants `delta` more bytes on a stream (0 means the whole session). */
export function encodeWindowUpdate(streamId: number, delta: number): Uint8Array {
  if (!Number.isInteger(delta) || delta < 1 || delta > 0x7fffffff) throw invalid('bad-value', `window delta ${delta}`);
  return twoWords('window-update', streamId & 0x7fffffff, delta);
}

/**
 * encodeFrame writes a decoded frame back out; decodeFrames(encodeFrame(f)) gives f again.
 * Header blocks go out exactly as they are (still compressed).
 */
export function encodeFrame(frame: SpdyFrame): Uint8Array {
  switch (frame.type) {
    case 'data': return encodeDataFrame(frame.streamId, frame.data, { fin: frame.fin });
    case 'syn-stream': return encodeSynStream(frame);
    case 'syn-reply': return encodeSynReply(frame.streamId, frame.headerBlock, { fin: frame.fin });
    case 'headers': return encodeHeaders(frame.streamId, frame.headerBlock, { fin: frame.fin });
    case 'rst-stream': return encodeRstStream(frame.streamId, frame.status);
    case 'settings': return encodeSettings(frame.entries, { clearSettings: (frame.flags & 1) !== 0 });
    case 'ping': return encodePing(frame.id);
    case 'goaway': return encodeGoaway(frame.lastGoodStreamId, frame.status);
    case 'window-update': return encodeWindowUpdate(frame.streamId, frame.deltaWindowSize);
  }
}
