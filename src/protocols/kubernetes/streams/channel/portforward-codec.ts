/**
 * Port-forward over WebSocket with channel framing, the kubelet's older, browser-friendly form
 * (pkg/kubelet/cri/streaming/portforward/websocket.go; reference §3.4). The ports come from the
 * `ports` query parameter; port i gets a data channel 2i and an error channel 2i+1. The upstream's
 * first message on each channel is the port as 2 bytes little-endian, which the client strips.
 *
 * kubectl ≥ 1.31 uses `SPDY/3.1+portforward.k8s.io` instead (SPDY frames inside binary messages);
 * that is classified by subprotocol.ts and decoded by the SPDY module, not here.
 * One decoder per connection and direction: it remembers which channels have announced their
 * port. Pure: opens no socket.
 */
import { decodeChannelFrame, encodeChannelFrame, malformed, type ChannelEncoding, type EncodedMessage } from './channel-frame.js';

/** Which way a message travels; only the upstream announces ports. */
export type Direction = 'from-client' | 'from-upstream';

/** PortForwardMessage is one decoded message of a port-forward WebSocket. */
export interface PortForwardMessage {
  /** The forwarded container port. */
  port: number;
  /** The position of the port in the `ports` query parameter. */
  portIndex: number;
  kind: 'data' | 'error';
  /** The payload, without the port announcement if this message carried it. */
  bytes: Uint8Array;
  /** True when this message began with the upstream's 2-byte port announcement. */
  announcement: boolean;
}

/**
 * parsePortsQuery reads the `ports` query values as the kubelet does: comma-separated decimal
 * ports from 1 to 65535, repeated parameters appended. Throws AIRLOCK_K8S_STREAM_MALFORMED
 * (`bad-port`) for none or an invalid one.
 */
export function parsePortsQuery(values: readonly string[]): number[] {
  const ports = values.flatMap((v) => v.split(',')).map((p) => p.trim());
  if (ports.length === 0) throw malformed('bad-port', 'port-forward needs at least one port');
  return ports.map((p) => {
    const n = Number(p);
    if (!/^[0-9]{1,5}$/.test(p) || n < 1 || n > 0xffff) throw malformed('bad-port', `"${p}" is not a port from 1 to 65535`);
    return n;
  });
}

/**
 * PortForwardDecoder reads the messages of one direction of one port-forward connection. Throws
 * AIRLOCK_K8S_STREAM_MALFORMED: `unknown-channel` beyond the requested ports, `bad-port` when an
 * upstream announcement is short or names another port, plus the framing reasons.
 */
export class PortForwardDecoder {
  readonly #ports: readonly number[];
  readonly #encoding: ChannelEncoding;
  readonly #direction: Direction;
  readonly #announced = new Set<number>();

  constructor(ports: readonly number[], encoding: ChannelEncoding, direction: Direction) {
    this.#ports = [...ports];
    this.#encoding = encoding;
    this.#direction = direction;
  }

  /** decode reads one whole WebSocket message. */
  decode(message: Uint8Array): PortForwardMessage {
    const { id, payload } = decodeChannelFrame(message, this.#encoding);
    const portIndex = id >> 1;
    const port = this.#ports[portIndex];
    if (port === undefined) throw malformed('unknown-channel', `channel ${id} is beyond the ${this.#ports.length} forwarded port(s)`);
    const kind = (id & 1) === 0 ? 'data' : 'error';
    if (this.#direction === 'from-client' || this.#announced.has(id)) {
      return { port, portIndex, kind, bytes: payload, announcement: false };
    }
    if (payload.length < 2) throw malformed('bad-port', `the first message on channel ${id} lacks the 2-byte port`);
    const announced = (payload[0] as number) | ((payload[1] as number) << 8);
    if (announced !== port) throw malformed('bad-port', `channel ${id} announced port ${announced}, not the requested ${port}`);
    this.#announced.add(id);
    return { port, portIndex, kind, bytes: payload.subarray(2), announcement: true };
  }
}

/**
 * encodePortForwardMessage frames a message for the wire. With `announcement` set, the 2-byte
 * port goes first, as the upstream sends it on each channel's first message.
 */
export function encodePortForwardMessage(
  message: Pick<PortForwardMessage, 'portIndex' | 'kind' | 'bytes'> & { announcement?: boolean; port?: number },
  encoding: ChannelEncoding,
): EncodedMessage {
  const id = message.portIndex * 2 + (message.kind === 'data' ? 0 : 1);
  if (!message.announcement) return encodeChannelFrame(id, message.bytes, encoding);
  const port = message.port ?? 0;
  const payload = new Uint8Array(message.bytes.length + 2);
  payload[0] = port & 0xff;
  payload[1] = port >> 8;
  payload.set(message.bytes, 2);
  return encodeChannelFrame(id, payload, encoding);
}
