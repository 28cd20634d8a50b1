/**
 * `SPDY/3.1+portforward.k8s.io`: kubectl ≥ 1.31 runs an ordinary SPDY/3.1 port-forward session
 * over the WebSocket, one byte stream carried in binary messages (client-go
 * tools/portforward/tunneling_connection.go; reference §3.4). Message boundaries mean nothing:
 * a SPDY frame may span messages and one message may hold several, so the bytes are fed to the
 * SPDY decoder (streams/spdy/) as a stream. This file only checks the carrier. Pure.
 */
import { malformed } from './channel-frame.js';

/**
 * tunnelBytes returns the SPDY bytes a tunnel message carries. The tunnelling connection accepts
 * only binary messages, so a text message is refused with AIRLOCK_K8S_STREAM_MALFORMED
 * (`unknown-channel`) rather than read differently from the peer.
 */
export function tunnelBytes(message: Uint8Array, binary: boolean): Uint8Array {
  if (!binary) throw malformed('unknown-channel', 'a SPDY tunnel carries binary messages only');
  return message;
}
