/**
 * WebSocket codecs for the Kubernetes streaming subresources: remotecommand channels (exec,
 * attach), resize and exit status, legacy channel port-forward, and the SPDY tunnel carrier.
 * Pure: nothing here opens a socket, decides, masks or records.
 */
export * from './subprotocol.js';
export * from './channel-frame.js';
export * from './remotecommand-codec.js';
export * from './resize.js';
export * from './exec-status.js';
export * from './portforward-codec.js';
export * from './spdy-tunnel.js';
