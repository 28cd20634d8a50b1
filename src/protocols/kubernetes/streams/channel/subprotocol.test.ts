import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAirlockError } from '../../../../errors.js';
import {
  BEARER_PREFIX, classifySubprotocol, negotiateSubprotocol, parseSubprotocolHeader, splitBearerSubprotocol,
  SPDY_PORTFORWARD_TUNNEL, V4_BASE64_CHANNEL, V4_CHANNEL, V5_CHANNEL, type StreamPurpose,
} from './subprotocol.js';
import { tunnelBytes } from './spdy-tunnel.js';

const isSubprotocolError = (err: unknown): boolean => isAirlockError(err, 'AIRLOCK_K8S_STREAM_SUBPROTOCOL');

test('classifySubprotocol names the framing of every Kubernetes stream subprotocol', () => {
  assert.deepEqual(
    ['', 'channel.k8s.io', 'base64.channel.k8s.io', V4_CHANNEL, V4_BASE64_CHANNEL, V5_CHANNEL, SPDY_PORTFORWARD_TUNNEL, 'v3.channel.k8s.io'].map((n) => {
      const info = classifySubprotocol(n);
      return info?.kind === 'channel' ? `${info.version}/${info.encoding}` : info?.kind;
    }),
    ['1/binary', '1/binary', '1/base64', '4/binary', '4/base64', '5/binary', 'spdy-tunnel', undefined],
  );
});

test('parseSubprotocolHeader splits comma lists and repeated headers', () => {
  assert.deepEqual(parseSubprotocolHeader(['v5.channel.k8s.io, v4.channel.k8s.io', ' channel.k8s.io ']), [V5_CHANNEL, V4_CHANNEL, 'channel.k8s.io']);
  assert.deepEqual(parseSubprotocolHeader(undefined), []);
});

const accepted: Array<[string, string[], string | undefined, StreamPurpose, string]> = [
  ['kubectl exec offers only v5 and gets it', [V5_CHANNEL], V5_CHANNEL, 'remotecommand', V5_CHANNEL],
  ['client-node offers v4 first; upstream picks v4', [V4_CHANNEL, 'channel.k8s.io'], V4_CHANNEL, 'remotecommand', V4_CHANNEL],
  ['a browser on base64', [V4_BASE64_CHANNEL], V4_BASE64_CHANNEL, 'remotecommand', V4_BASE64_CHANNEL],
  ['no subprotocol at all is binary channels', [], undefined, 'remotecommand', ''],
  ['kubectl ≥ 1.31 port-forward tunnel', [SPDY_PORTFORWARD_TUNNEL], SPDY_PORTFORWARD_TUNNEL, 'portforward', SPDY_PORTFORWARD_TUNNEL],
  ['legacy channel port-forward', [V4_CHANNEL], V4_CHANNEL, 'portforward', V4_CHANNEL],
];
for (const [label, offered, chosen, purpose, name] of accepted) {
  test(`negotiateSubprotocol accepts the client with upstream's choice: ${label}`, () => {
    assert.equal(negotiateSubprotocol(offered, chosen, purpose).name, name);
  });
}

const refused: Array<[string, string[], string | undefined, StreamPurpose]> = [
  ['upstream chose a name the client did not offer', [V5_CHANNEL], V4_CHANNEL, 'remotecommand'],
  ['upstream chose a name airlock cannot read', ['v9.channel.k8s.io'], 'v9.channel.k8s.io', 'remotecommand'],
  ['the SPDY tunnel is not an exec framing', [SPDY_PORTFORWARD_TUNNEL], SPDY_PORTFORWARD_TUNNEL, 'remotecommand'],
  ['v5 is not a port-forward framing', [V5_CHANNEL], V5_CHANNEL, 'portforward'],
  ['upstream echoed a token', [`${BEARER_PREFIX}dG9r`], `${BEARER_PREFIX}dG9r`, 'remotecommand'],
];
for (const [label, offered, chosen, purpose] of refused) {
  test(`negotiateSubprotocol refuses when ${label}`, () => {
    assert.throws(() => negotiateSubprotocol(offered, chosen, purpose), isSubprotocolError);
  });
}

const token = 'eyJhbGciOiJSUzI1NiJ9.secret-part.sig';
const tokenProtocol = BEARER_PREFIX + Buffer.from(token).toString('base64url');

test('splitBearerSubprotocol takes the token out so upstream never sees it', () => {
  assert.deepEqual(splitBearerSubprotocol([tokenProtocol, V5_CHANNEL]), { protocols: [V5_CHANNEL], bearerToken: token });
  assert.deepEqual(splitBearerSubprotocol([V5_CHANNEL]), { protocols: [V5_CHANNEL] });
});

const badTokens: Array<[string, string[]]> = [
  ['two tokens', [tokenProtocol, tokenProtocol, V5_CHANNEL]],
  ['a token alone', [tokenProtocol]],
  ['padded base64', [`${BEARER_PREFIX}dG9rZW4=`, V5_CHANNEL]],
  ['standard base64 characters', [`${BEARER_PREFIX}a+b/`, V5_CHANNEL]],
  ['an empty token', [BEARER_PREFIX, V5_CHANNEL]],
  ['bytes that are not UTF-8', [BEARER_PREFIX + Buffer.from([0xff, 0xfe]).toString('base64url'), V5_CHANNEL]],
];
for (const [label, offered] of badTokens) {
  test(`splitBearerSubprotocol refuses ${label}, and the error never contains the token`, () => {
    assert.throws(() => splitBearerSubprotocol(offered), (err: unknown) =>
      isSubprotocolError(err) && !String((err as Error).message).includes('secret-part') && !(err as Error).message.includes(tokenProtocol.slice(BEARER_PREFIX.length)));
  });
}

test('the SPDY tunnel carries binary messages only', () => {
  const bytes = Uint8Array.of(0x80, 3, 0, 1);
  assert.equal(tunnelBytes(bytes, true), bytes);
  assert.throws(() => tunnelBytes(bytes, false), (err: unknown) => isAirlockError(err, 'AIRLOCK_K8S_STREAM_MALFORMED'));
});
