import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatHostPort, parseHostPort, urlForListener } from './host-port.js';

const valid: Array<[string, string, number]> = [
  ['127.0.0.1:8443', '127.0.0.1', 8443],
  ['0.0.0.0:0', '0.0.0.0', 0],
  ['localhost:65535', 'localhost', 65535],
  ['airlock.example.com:443', 'airlock.example.com', 443],
  ['[::1]:8443', '::1', 8443],
  ['[::]:8443', '::', 8443],
  ['[fe80::1]:1', 'fe80::1', 1],
];

for (const [text, host, port] of valid) {
  test(`parseHostPort reads ${text} and formatHostPort writes it back`, () => {
    assert.deepEqual(parseHostPort(text), { host, port });
    assert.equal(formatHostPort({ host, port }), text);
  });
}

const invalid: Array<[string, string, RegExp]> = [
  ['no port', 'localhost', /port is missing/],
  ['no host', ':8443', /host is missing/],
  ['a port above 65535', '127.0.0.1:65536', /0 to 65535/],
  ['a named port', 'localhost:https', /0 to 65535/],
  ['an unbracketed IPv6 address', '::1:8443', /brackets/],
  ['brackets around an IPv4 address', '[127.0.0.1]:80', /IPv6 address/],
  ['a host with a space', 'my host:80', /not an IP address or a DNS name/],
  ['a URL instead of an address', 'http://localhost:80', /not an IP address or a DNS name|brackets/],
];

for (const [name, text, message] of invalid) {
  test(`parseHostPort refuses ${name} and says why`, () => {
    const result = parseHostPort(text);
    assert.ok('error' in result, `accepted ${text}`);
    assert.match(result.error, /^expected HOST:PORT/);
    assert.match(result.error, message);
  });
}

const urls: Array<[string, string]> = [
  ['127.0.0.1:8444', 'http://127.0.0.1:8444'],
  ['0.0.0.0:8444', 'http://127.0.0.1:8444'],
  ['[::]:8444', 'http://[::1]:8444'],
  ['[::1]:8444', 'http://[::1]:8444'],
  ['airlock.internal:80', 'http://airlock.internal:80'],
];

for (const [listen, url] of urls) {
  test(`urlForListener dials ${listen} as ${url} (unspecified addresses become loopback)`, () => {
    const address = parseHostPort(listen);
    assert.ok(!('error' in address));
    assert.equal(urlForListener(address, 'http'), url);
  });
}
