/**
 * The framing shared by every Kubernetes channel subprotocol: a WebSocket message is one channel
 * id followed by the payload. Binary variants put the id in the first byte; base64 variants send
 * text whose first character is `'0' + id` and whose rest is standard base64
 * (k8s.io/apiserver/pkg/util/wsstream/conn.go).
 *
 * This layer knows numbers only; remotecommand-codec.ts and portforward-codec.ts give the ids
 * their meaning. One WebSocket message is always one whole frame, so there is no partial input
 * to keep. Pure: opens no socket.
 */
import { AirlockError } from '../../../../errors.js';

/** How payloads are carried: raw bytes in binary messages, or base64 in text messages. */
export type ChannelEncoding = 'binary' | 'base64';

/** RawChannelFrame is a channel id and its payload, before any channel has a name. */
export interface RawChannelFrame {
  id: number;
  /** For binary messages a view into the message (no copy); for base64 a fresh buffer. */
  payload: Uint8Array;
}

/** EncodedMessage is what to send on the WebSocket: the bytes and whether the frame is binary. */
export interface EncodedMessage {
  data: Buffer;
  binary: boolean;
}

/** Why a message could not be read; `details.reason` on the AirlockError carries it. */
export type MalformedReason =
  | 'empty'
  | 'unknown-channel'
  | 'bad-base64'
  | 'bad-close'
  | 'bad-resize'
  | 'bad-status'
  | 'bad-port'
  | 'too-large';

/** malformed builds the one error every channel decoder throws, with a machine-readable reason. */
export function malformed(reason: MalformedReason, detail: string): AirlockError {
  return new AirlockError('AIRLOCK_K8S_STREAM_MALFORMED', detail, { details: { reason } });
}

const ZERO = '0'.charCodeAt(0);

/**
 * decodeChannelFrame splits a message into channel id and payload. The kind of WebSocket frame
 * (text or binary) is deliberately not consulted: the kubelet reads both kinds alike into bytes
 * (`websocket.Message.Receive` into `[]byte`), so airlock reads them as the peer will. Throws
 * AIRLOCK_K8S_STREAM_MALFORMED for an empty message or invalid base64.
 */
export function decodeChannelFrame(message: Uint8Array, encoding: ChannelEncoding): RawChannelFrame {
  if (message.length === 0) throw malformed('empty', 'an empty message has no channel byte');
  const first = message[0] as number;
  if (encoding === 'binary') return { id: first, payload: message.subarray(1) };
  // Go computes `data[0] - '0'` on a byte, so characters below '0' wrap to high, unknown ids.
  return { id: (first - ZERO) & 0xff, payload: decodeBase64Strict(message.subarray(1)) };
}

/** encodeChannelFrame frames a payload for a channel id; base64 variants give a text message. */
export function encodeChannelFrame(id: number, payload: Uint8Array, encoding: ChannelEncoding): EncodedMessage {
  if (!Number.isInteger(id) || id < 0 || id > 255 || (encoding === 'base64' && id > 255 - ZERO)) {
    throw new AirlockError('AIRLOCK_INTERNAL', `channel id ${id} cannot be framed as ${encoding}`);
  }
  if (encoding === 'binary') {
    const data = Buffer.allocUnsafe(payload.length + 1);
    data[0] = id;
    data.set(payload, 1);
    return { data, binary: true };
  }
  const text = String.fromCharCode(ZERO + id) + Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('base64');
  return { data: Buffer.from(text, 'latin1'), binary: false };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * decodeBase64Strict accepts what Go's base64.StdEncoding accepts (padding required; CR and LF
 * ignored) and nothing more. Node's decoder silently skips invalid characters, which would let
 * airlock record and mask different bytes from those the upstream acts on.
 */
export function decodeBase64Strict(text: Uint8Array): Buffer {
  const s = Buffer.from(text.buffer, text.byteOffset, text.length).toString('latin1').replace(/[\r\n]/g, '');
  if (!BASE64.test(s)) throw malformed('bad-base64', 'the payload is not standard, padded base64');
  return Buffer.from(s, 'base64');
}
