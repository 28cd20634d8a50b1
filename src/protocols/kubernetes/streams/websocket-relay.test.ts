/**
 * The WebSocket relay against a plain ws:// server standing in for the cluster: messages pass
 * through the observer, and when the cluster ends the stream the client's leg stays open until
 * the observer's `closed` promise (the recording) settles.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { relayWebSocket, type RelayObserver } from './websocket-relay.js';

describe('relayWebSocket', () => {
  let upstream: WebSocketServer;
  let gateway: Server;
  let upstreamUrl: string;
  let observer: RelayObserver;

  before(async () => {
    // The cluster's side: says "exit 0", then closes.
    upstream = new WebSocketServer({ port: 0, handleProtocols: () => 'v5.channel.k8s.io' });
    upstream.on('connection', (ws) => {
      ws.send(Buffer.from('\x03exit 0'));
      ws.close(1000);
    });
    await new Promise((resolve) => upstream.once('listening', resolve));
    upstreamUrl = `ws://127.0.0.1:${(upstream.address() as AddressInfo).port}/exec`;
    gateway = createServer();
    gateway.on('upgrade', (req, socket, head) => {
      void relayWebSocket({ req, socket, head, upstreamUrl, protocols: ['v5.channel.k8s.io'], headers: {}, tls: { rejectUnauthorized: true }, observer });
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await new Promise((resolve) => upstream.close(resolve));
    await new Promise((resolve) => gateway.close(resolve));
  });

  it('holds the client open after the cluster closes until the recording of the stream settles', async () => {
    let finishRecording!: () => void;
    let recordingDone = false;
    const closedBy: string[] = [];
    let relayClosed!: () => void;
    const relaySawClose = new Promise<void>((resolve) => (relayClosed = resolve));
    observer = {
      accept: () => undefined,
      open: () => undefined,
      message: (_direction, data) => data,
      closed: (result) => {
        closedBy.push(result.by);
        relayClosed();
        return new Promise<void>((resolve) => {
          finishRecording = () => {
            recordingDone = true;
            resolve();
          };
        });
      },
    };
    const client = new WebSocket(`ws://127.0.0.1:${(gateway.address() as AddressInfo).port}/exec`, ['v5.channel.k8s.io']);
    const received: string[] = [];
    client.on('message', (data: Buffer) => {
      received.push(data.toString());
      // Once the relay has seen the cluster close, a ping's round trip proves the client's leg is
      // still open; only then does the recording settle.
      void relaySawClose.then(() => {
        client.once('pong', () => finishRecording());
        client.ping();
      });
    });
    const closed = await new Promise<{ code: number; whileRecording: boolean }>((resolve) => client.on('close', (code) => resolve({ code, whileRecording: !recordingDone })));
    assert.deepEqual(received, ['\x03exit 0']);
    assert.deepEqual(closedBy, ['upstream']);
    assert.equal(closed.whileRecording, false, 'the client saw the close only after the recording settled');
    assert.equal(closed.code, 1000);
  });
});
