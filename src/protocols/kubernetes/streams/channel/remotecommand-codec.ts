/**
 * The remotecommand channels of `kubectl exec` and `attach` over WebSocket: which channel id is
 * stdin, stdout, stderr, error, resize, and v5's CLOSE (k8s.io/apimachinery/pkg/util/remotecommand
 * constants.go; reference §3.3).
 *
 * Decoding turns one whole WebSocket message into `{ channel, bytes }`; encoding turns it back
 * into the exact message the peer expects. The codec holds no state, so one instance serves every
 * connection. Pure: opens no socket, never decides or records.
 */
import { decodeChannelFrame, encodeChannelFrame, malformed, type EncodedMessage } from './channel-frame.js';
import type { SubprotocolInfo } from './subprotocol.js';

/** The channels of a remotecommand stream; `close` is v5's "no more data on a channel". */
export type ChannelName = 'stdin' | 'stdout' | 'stderr' | 'error' | 'resize' | 'close';

/** A data channel: every channel except the CLOSE signal. */
export type StreamChannel = Exclude<ChannelName, 'close'>;

/** ChannelMessage is one decoded WebSocket message. For `close`, `bytes` is the one closed id. */
export interface ChannelMessage {
  channel: ChannelName;
  bytes: Uint8Array;
}

/** The channel subprotocols; port-forward's tunnel is not one. */
export type ChannelProtocol = Extract<SubprotocolInfo, { kind: 'channel' }>;

/** The wire id of each channel (remotecommand/constants.go). */
export const channelIds: Readonly<Record<ChannelName, number>> = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  error: 3,
  resize: 4,
  close: 255,
};

const streamNames: readonly StreamChannel[] = ['stdin', 'stdout', 'stderr', 'error', 'resize'];

/**
 * decodeChannelMessage reads one message of a remotecommand stream. A payload may be empty (the
 * kubelet writes an empty error-channel message to say it is ready). Throws
 * AIRLOCK_K8S_STREAM_MALFORMED (`details.reason`: empty, unknown-channel, bad-base64, bad-close)
 * for what the protocol does not define.
 *
 * @example
 * const { channel, bytes } = decodeChannelMessage(data, negotiateSubprotocol(offered, chosen, 'remotecommand') as ChannelProtocol);
 */
export function decodeChannelMessage(message: Uint8Array, protocol: ChannelProtocol): ChannelMessage {
  // CLOSE is checked before the channel table, as wsstream does, and exists only in v5.
  if (protocol.version >= 5 && message.length > 0 && message[0] === channelIds.close) {
    parseClosePayload(message.subarray(1));
    return { channel: 'close', bytes: message.subarray(1) };
  }
  const { id, payload } = decodeChannelFrame(message, protocol.encoding);
  const channel = streamNames[id];
  if (channel === undefined) throw malformed('unknown-channel', `channel ${id} is not defined by ${protocol.name || 'the channel protocol'}`);
  return { channel, bytes: payload };
}

/** encodeChannelMessage frames a message for the protocol; CLOSE outside v5 is a programming error. */
export function encodeChannelMessage(message: ChannelMessage, protocol: ChannelProtocol): EncodedMessage {
  if (message.channel === 'close') {
    if (protocol.version < 5) throw malformed('bad-close', `${protocol.name || 'this protocol'} has no CLOSE signal (v5 only)`);
    parseClosePayload(message.bytes);
  }
  return encodeChannelFrame(channelIds[message.channel], message.bytes, protocol.encoding);
}

/**
 * parseClosePayload names the channel a v5 CLOSE ends. The payload is exactly one byte, a
 * channel the stream has (wsstream ends the connection on anything else). Throws
 * AIRLOCK_K8S_STREAM_MALFORMED (`bad-close`) otherwise.
 */
export function parseClosePayload(payload: Uint8Array): StreamChannel {
  if (payload.length !== 1) throw malformed('bad-close', `a CLOSE carries exactly one channel byte, not ${payload.length}`);
  const target = streamNames[payload[0] as number];
  if (target === undefined) throw malformed('bad-close', `a CLOSE names channel ${payload[0]}, which does not exist`);
  return target;
}

/** closeMessage builds the v5 CLOSE of one channel (kubectl sends `[255, 0]` to end stdin). */
export function closeMessage(channel: StreamChannel): ChannelMessage {
  return { channel: 'close', bytes: Uint8Array.of(channelIds[channel]) };
}
