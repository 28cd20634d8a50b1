/**
 * WebSocket subprotocols of the Kubernetes streaming subresources (exec, attach, port-forward):
 * what each name means for the framing, and which one airlock accepts from the client.
 *
 * airlock terminates both legs. It dials upstream first, then accepts the client with exactly
 * the subprotocol upstream chose, so that airlock, the client and the upstream all read every
 * message the same way. A subprotocol airlock cannot read is refused: a stream it cannot record
 * is never relayed blind. Pure: opens no socket.
 *
 * Names: k8s.io/apimachinery/pkg/util/remotecommand/constants.go and
 * k8s.io/apiserver/pkg/util/wsstream (reference §3.3, §3.4).
 */
import { AirlockError } from '../../../../errors.js';

/** Channel protocol generations as the kubelet serves them over WebSocket. */
export type ChannelVersion = 1 | 4 | 5;

/** SubprotocolInfo says how the messages of a negotiated subprotocol are framed. */
export type SubprotocolInfo =
  /**
   * Channel framing: one channel byte, then the payload. `version` 1 covers the kubelet's
   * pre-v4 WebSocket handler (plain-text error channel, resize on channel 4), 4 adds the Status
   * JSON error channel, 5 adds CLOSE (channel 255).
   */
  | { kind: 'channel'; name: string; version: ChannelVersion; encoding: 'binary' | 'base64' }
  /** kubectl ≥ 1.31 port-forward: SPDY/3.1 frames carried in WebSocket binary messages. */
  | { kind: 'spdy-tunnel'; name: string };

export const V5_CHANNEL = 'v5.channel.k8s.io';
export const V4_CHANNEL = 'v4.channel.k8s.io';
export const V4_BASE64_CHANNEL = 'v4.base64.channel.k8s.io';
export const CHANNEL = 'channel.k8s.io';
export const BASE64_CHANNEL = 'base64.channel.k8s.io';
export const SPDY_PORTFORWARD_TUNNEL = 'SPDY/3.1+portforward.k8s.io';
/** The browser-style bearer token travels as a subprotocol with this prefix (reference §3.3). */
export const BEARER_PREFIX = 'base64url.bearer.authorization.k8s.io.';

const known: ReadonlyMap<string, SubprotocolInfo> = new Map<string, SubprotocolInfo>([
  // No subprotocol at all: wsstream's "" entry, which the kubelet configures as binary channels.
  ['', { kind: 'channel', name: '', version: 1, encoding: 'binary' }],
  [CHANNEL, { kind: 'channel', name: CHANNEL, version: 1, encoding: 'binary' }],
  [BASE64_CHANNEL, { kind: 'channel', name: BASE64_CHANNEL, version: 1, encoding: 'base64' }],
  [V4_CHANNEL, { kind: 'channel', name: V4_CHANNEL, version: 4, encoding: 'binary' }],
  [V4_BASE64_CHANNEL, { kind: 'channel', name: V4_BASE64_CHANNEL, version: 4, encoding: 'base64' }],
  [V5_CHANNEL, { kind: 'channel', name: V5_CHANNEL, version: 5, encoding: 'binary' }],
  [SPDY_PORTFORWARD_TUNNEL, { kind: 'spdy-tunnel', name: SPDY_PORTFORWARD_TUNNEL }],
]);

/** classifySubprotocol names the framing of a subprotocol; undefined when airlock cannot read it. */
export function classifySubprotocol(name: string): SubprotocolInfo | undefined {
  return known.get(name);
}

/** parseSubprotocolHeader splits `Sec-WebSocket-Protocol` values (comma lists, repeated headers). */
export function parseSubprotocolHeader(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const lines = typeof value === 'string' ? [value] : value;
  return lines.flatMap((line) => line.split(',')).map((p) => p.trim()).filter((p) => p !== '');
}

/** What the client offered, with the bearer-token subprotocol taken out. */
export interface OfferedSubprotocols {
  /** The subprotocols to offer upstream: never the token one, which upstream must not see. */
  protocols: string[];
  /** The token from a `base64url.bearer.authorization.k8s.io.` subprotocol, if one was sent. */
  bearerToken?: string;
}

/**
 * splitBearerSubprotocol takes the token subprotocol out of the client's offer, as the apiserver's
 * WebSocket authenticator does. It throws AIRLOCK_K8S_STREAM_SUBPROTOCOL for two tokens, a token
 * that is not base64url of UTF-8, or a token with no other subprotocol to echo back. The error
 * never contains the token.
 */
export function splitBearerSubprotocol(offered: readonly string[]): OfferedSubprotocols {
  const protocols: string[] = [];
  let bearerToken: string | undefined;
  for (const p of offered) {
    if (!p.startsWith(BEARER_PREFIX)) {
      protocols.push(p);
      continue;
    }
    if (bearerToken !== undefined) throw new AirlockError('AIRLOCK_K8S_STREAM_SUBPROTOCOL', 'more than one bearer token subprotocol was offered');
    bearerToken = decodeBearer(p.slice(BEARER_PREFIX.length));
  }
  if (bearerToken === undefined) return { protocols };
  if (protocols.length === 0) {
    throw new AirlockError('AIRLOCK_K8S_STREAM_SUBPROTOCOL', 'a bearer token subprotocol needs at least one other subprotocol');
  }
  return { protocols, bearerToken };
}

/** decodeBearer reads base64url without padding strictly (Go's RawURLEncoding), then UTF-8 strictly. */
function decodeBearer(encoded: string): string {
  if (encoded === '' || !/^[A-Za-z0-9_-]*$/.test(encoded) || encoded.length % 4 === 1) {
    throw new AirlockError('AIRLOCK_K8S_STREAM_SUBPROTOCOL', 'the bearer token subprotocol is not base64url');
  }
  const bytes = Buffer.from(encoded, 'base64url');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AirlockError('AIRLOCK_K8S_STREAM_SUBPROTOCOL', 'the bearer token subprotocol is not UTF-8');
  }
}

/** Which streaming subresource the WebSocket serves; it limits the framings that make sense. */
export type StreamPurpose = 'remotecommand' | 'portforward';

/**
 * negotiateSubprotocol decides what airlock answers the client once upstream has answered 101:
 * exactly the subprotocol upstream chose (`''` or undefined when it chose none). It throws
 * AIRLOCK_K8S_STREAM_SUBPROTOCOL when upstream chose a name the client did not offer (client-go
 * would fail the handshake anyway), a token subprotocol, or a framing airlock cannot read for
 * this purpose.
 *
 * @example
 * const { protocols } = splitBearerSubprotocol(parseSubprotocolHeader(req.headers['sec-websocket-protocol']));
 * // dial upstream offering `protocols`, then:
 * const accepted = negotiateSubprotocol(protocols, upstream.protocol, 'remotecommand');
 * // accept the client with accepted.name; decode its messages with accepted
 */
export function negotiateSubprotocol(
  offered: readonly string[],
  upstreamChosen: string | undefined,
  purpose: StreamPurpose,
): SubprotocolInfo {
  const chosen = upstreamChosen ?? '';
  if (chosen.startsWith(BEARER_PREFIX)) {
    throw new AirlockError('AIRLOCK_K8S_STREAM_SUBPROTOCOL', 'the upstream echoed a bearer token subprotocol');
  }
  if (chosen !== '' && !offered.includes(chosen)) {
    throw new AirlockError('AIRLOCK_K8S_STREAM_SUBPROTOCOL', `the upstream chose "${chosen}", which the client did not offer`);
  }
  const info = classifySubprotocol(chosen);
  if (info === undefined || !fitsPurpose(info, purpose)) {
    const shown = chosen === '' ? 'no subprotocol' : `"${chosen}"`;
    throw new AirlockError('AIRLOCK_K8S_STREAM_SUBPROTOCOL', `airlock cannot read ${shown} for ${purpose}`);
  }
  return info;
}

/**
 * fitsPurpose: exec and attach speak every channel version; the kubelet's WebSocket port-forward
 * serves only "" and the v4 names, and the tunnel is port-forward only. Anything else would be
 * read with the wrong meaning, so it is refused.
 */
function fitsPurpose(info: SubprotocolInfo, purpose: StreamPurpose): boolean {
  if (purpose === 'remotecommand') return info.kind === 'channel';
  if (info.kind === 'spdy-tunnel') return true;
  return info.name === '' || info.version === 4;
}
