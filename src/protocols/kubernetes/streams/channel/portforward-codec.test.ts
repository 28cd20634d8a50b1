import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAirlockError } from '../../../../errors.js';
import { encodePortForwardMessage, parsePortsQuery, PortForwardDecoder } from './portforward-codec.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const isMalformed = (reason: string) => (err: unknown): boolean =>
  isAirlockError(err, 'AIRLOCK_K8S_STREAM_MALFORMED') && err.details?.reason === reason;

test('parsePortsQuery reads comma lists and repeated parameters as the kubelet does', () => {
  assert.deepEqual(parsePortsQuery(['8080,9090', '5432']), [8080, 9090, 5432]);
});

for (const [label, values] of [['no port', []], ['port 0', ['0']], ['port 65536', ['65536']], ['a name', ['http']], ['an empty item', ['80,']]] as const) {
  test(`parsePortsQuery refuses ${label}`, () => assert.throws(() => parsePortsQuery(values), isMalformed('bad-port')));
}

for (const encoding of ['binary', 'base64'] as const) {
  test(`${encoding}: the upstream's first message on each channel announces its port little-endian and is stripped`, () => {
    const ports = [8080, 9090];
    const up = new PortForwardDecoder(ports, encoding, 'from-upstream');
    const ann = encodePortForwardMessage({ portIndex: 1, kind: 'data', bytes: new Uint8Array(0), announcement: true, port: 9090 }, encoding);
    if (encoding === 'binary') assert.deepEqual([...ann.data], [2, 9090 & 0xff, 9090 >> 8]);
    assert.deepEqual(up.decode(ann.data), { port: 9090, portIndex: 1, kind: 'data', bytes: Buffer.alloc(0), announcement: true });
    const data = encodePortForwardMessage({ portIndex: 1, kind: 'data', bytes: b('HTTP/1.1 200 OK\r\n') }, encoding);
    const got = up.decode(data.data);
    assert.equal(got.announcement, false);
    assert.equal(Buffer.from(got.bytes).toString(), 'HTTP/1.1 200 OK\r\n');
    const err = encodePortForwardMessage({ portIndex: 0, kind: 'error', bytes: b('refused'), announcement: true, port: 8080 }, encoding);
    const e = up.decode(err.data);
    assert.deepEqual([e.port, e.kind, Buffer.from(e.bytes).toString(), e.announcement], [8080, 'error', 'refused', true]);
  });

  test(`${encoding}: client messages carry no announcement and round-trip unchanged`, () => {
    const client = new PortForwardDecoder([5432], encoding, 'from-client');
    const wire = encodePortForwardMessage({ portIndex: 0, kind: 'data', bytes: b('\x00\x01GET') }, encoding);
    const got = client.decode(wire.data);
    assert.deepEqual([got.port, got.kind, got.announcement, Buffer.from(got.bytes).toString('latin1')], [5432, 'data', false, '\x00\x01GET']);
  });
}

test('a channel beyond the requested ports is refused', () => {
  const up = new PortForwardDecoder([8080], 'binary', 'from-upstream');
  assert.throws(() => up.decode(Uint8Array.of(2, 0x90, 0x1f)), isMalformed('unknown-channel'));
});

test('an announcement of another port is refused: airlock would record the wrong port', () => {
  const up = new PortForwardDecoder([8080], 'binary', 'from-upstream');
  assert.throws(() => up.decode(Uint8Array.of(0, 0x91, 0x1f)), isMalformed('bad-port'));
});

test('a short announcement is refused', () => {
  const up = new PortForwardDecoder([8080], 'binary', 'from-upstream');
  assert.throws(() => up.decode(Uint8Array.of(0, 0x90)), isMalformed('bad-port'));
});

test('an empty message is refused', () => {
  assert.throws(() => new PortForwardDecoder([80], 'binary', 'from-client').decode(new Uint8Array(0)), isMalformed('empty'));
});
