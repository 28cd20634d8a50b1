import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAirlockError } from '../../../../errors.js';
import { classifySubprotocol, CHANNEL, BASE64_CHANNEL, V4_CHANNEL, V4_BASE64_CHANNEL, V5_CHANNEL } from './subprotocol.js';
import {
  closeMessage, decodeChannelMessage, encodeChannelMessage, parseClosePayload,
  type ChannelMessage, type ChannelProtocol, type StreamChannel,
} from './remotecommand-codec.js';

const protocol = (name: string): ChannelProtocol => {
  const info = classifySubprotocol(name);
  assert.ok(info?.kind === 'channel');
  return info;
};
const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const every = ['', CHANNEL, BASE64_CHANNEL, V4_CHANNEL, V4_BASE64_CHANNEL, V5_CHANNEL];
const channels: StreamChannel[] = ['stdin', 'stdout', 'stderr', 'error', 'resize'];
const payloads: Array<[string, Uint8Array]> = [
  ['empty (readiness signal)', new Uint8Array(0)],
  ['text', bytes('hello\r\n$ ')],
  ['escape sequences', bytes('\x1b[1;31mred\x1b[0m')],
  ['every byte value', Uint8Array.from({ length: 256 }, (_, i) => i)],
];

for (const name of every) {
  for (const channel of channels) {
    for (const [label, payload] of payloads) {
      test(`${name || '(no subprotocol)'}: ${channel} with ${label} survives encode then decode unchanged`, () => {
        const p = protocol(name);
        const wire = encodeChannelMessage({ channel, bytes: payload }, p);
        assert.equal(wire.binary, p.encoding === 'binary');
        const back = decodeChannelMessage(wire.data, p);
        assert.equal(back.channel, channel);
        assert.deepEqual(Buffer.from(back.bytes), Buffer.from(payload));
      });
    }
  }
}

test('binary framing puts the channel id in the first byte, as kubectl writes it', () => {
  const wire = encodeChannelMessage({ channel: 'stdout', bytes: bytes('hi') }, protocol(V5_CHANNEL));
  assert.deepEqual([...wire.data], [1, 0x68, 0x69]);
});

test('base64 framing is a text message of the channel digit then padded base64', () => {
  const wire = encodeChannelMessage({ channel: 'stderr', bytes: bytes('hi') }, protocol(V4_BASE64_CHANNEL));
  assert.equal(wire.data.toString('latin1'), '2aGk=');
  assert.deepEqual(Buffer.from(decodeChannelMessage(Buffer.from('1aGk=\r\n'), protocol(BASE64_CHANNEL)).bytes), Buffer.from('hi'));
});

test('v5 CLOSE round-trips and names the channel it ends', () => {
  const p = protocol(V5_CHANNEL);
  for (const channel of channels) {
    const wire = encodeChannelMessage(closeMessage(channel), p);
    assert.deepEqual([...wire.data], [255, channels.indexOf(channel)]);
    const back = decodeChannelMessage(wire.data, p);
    assert.equal(back.channel, 'close');
    assert.equal(parseClosePayload(back.bytes), channel);
  }
});

test('a text frame on a binary protocol is read as the kubelet reads it: by bytes', () => {
  // The decoder is given bytes only; the kind of WebSocket frame does not change the meaning.
  const back = decodeChannelMessage(Buffer.from('\x00ls\n', 'latin1'), protocol(V5_CHANNEL));
  assert.deepEqual(back, { channel: 'stdin', bytes: Buffer.from('ls\n') } satisfies ChannelMessage);
});

const malformedRows: Array<[string, string, Uint8Array, string]> = [
  ['an empty binary message', V5_CHANNEL, new Uint8Array(0), 'empty'],
  ['an empty base64 message', V4_BASE64_CHANNEL, new Uint8Array(0), 'empty'],
  ['channel 5', V5_CHANNEL, Uint8Array.of(5, 1), 'unknown-channel'],
  ['channel 254', V4_CHANNEL, Uint8Array.of(254), 'unknown-channel'],
  ['CLOSE before v5', V4_CHANNEL, Uint8Array.of(255, 0), 'unknown-channel'],
  ['CLOSE before v5 (v1)', CHANNEL, Uint8Array.of(255, 0), 'unknown-channel'],
  ['base64 channel digit 9', V4_BASE64_CHANNEL, bytes('9aGk='), 'unknown-channel'],
  ['base64 channel below 0', BASE64_CHANNEL, bytes('/aGk='), 'unknown-channel'],
  ['base64 with a bad character', V4_BASE64_CHANNEL, bytes('1aG!k'), 'bad-base64'],
  ['base64 without padding', V4_BASE64_CHANNEL, bytes('1aGk'), 'bad-base64'],
  ['base64 with inner whitespace', V4_BASE64_CHANNEL, bytes('1aG k='), 'bad-base64'],
  ['base64 with padding in the middle', V4_BASE64_CHANNEL, bytes('1aG==aGk='), 'bad-base64'],
  ['CLOSE with no channel byte', V5_CHANNEL, Uint8Array.of(255), 'bad-close'],
  ['CLOSE with two channel bytes', V5_CHANNEL, Uint8Array.of(255, 0, 1), 'bad-close'],
  ['CLOSE of channel 7', V5_CHANNEL, Uint8Array.of(255, 7), 'bad-close'],
];
for (const [label, name, message, reason] of malformedRows) {
  test(`${label} on ${name} is refused with AIRLOCK_K8S_STREAM_MALFORMED (${reason}), never passed on`, () => {
    assert.throws(() => decodeChannelMessage(message, protocol(name)), (err: unknown) =>
      isAirlockError(err, 'AIRLOCK_K8S_STREAM_MALFORMED') && err.details?.reason === reason);
  });
}

test('encoding a CLOSE for a protocol without one is refused', () => {
  assert.throws(() => encodeChannelMessage(closeMessage('stdin'), protocol(V4_CHANNEL)), (err: unknown) =>
    isAirlockError(err, 'AIRLOCK_K8S_STREAM_MALFORMED'));
});

test('a binary decode is a view of the message, not a copy (the hot path stays cheap)', () => {
  const message = Buffer.from([1, 7, 8, 9]);
  const { bytes: view } = decodeChannelMessage(message, protocol(V5_CHANNEL));
  assert.equal(view.buffer, message.buffer);
});
