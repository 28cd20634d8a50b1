import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAirlockError } from '../errors.js';
import { resolveConfig } from './resolve.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-resolve-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('no file and no flags give the defaults, with paths under the working directory', () => {
  const config = resolveConfig({ env: {}, cwd: '/home/op' });
  assert.equal(config.data, '/home/op/.airlock');
  assert.equal(config.listen, '127.0.0.1:8443');
  assert.deepEqual(config.admin, { listen: '127.0.0.1:8444', url: 'http://127.0.0.1:8444' });
  assert.equal(config.policy, undefined);
  assert.equal(config.ledger.sqlite.path, '/home/op/.airlock/ledger.db');
});

test('a first try needs no file: flags alone set data, listeners, policy and log level', () => {
  const config = resolveConfig({
    flags: { data: 'state', listen: '0.0.0.0:9443', admin: '[::1]:9444', policy: './policy.yaml', logLevel: 'debug' },
    env: {},
    cwd: '/home/op',
  });
  assert.equal(config.data, '/home/op/state');
  assert.equal(config.listen, '0.0.0.0:9443');
  assert.deepEqual(config.admin, { listen: '[::1]:9444', url: 'http://[::1]:9444' });
  assert.equal(config.policy, '/home/op/policy.yaml');
  assert.equal(config.log.level, 'debug');
  assert.equal(config.ledger.sqlite.path, '/home/op/state/ledger.db');
});

test('flags override the file; file paths stay relative to the file, flag paths to the working directory', (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, 'airlock.yaml'),
    'data: ./from-file\nlisten: 127.0.0.1:1000\nadmin:\n  listen: 127.0.0.1:1001\nlog:\n  level: warn\npolicy: file-policy.yaml\nledger:\n  chain: east\n',
  );
  const fileOnly = resolveConfig({ configFile: join(dir, 'airlock.yaml'), env: {}, cwd: '/elsewhere' });
  assert.equal(fileOnly.data, join(dir, 'from-file'));
  assert.equal(fileOnly.policy, join(dir, 'file-policy.yaml'));
  assert.equal(fileOnly.admin.url, 'http://127.0.0.1:1001');

  const config = resolveConfig({
    configFile: join(dir, 'airlock.yaml'),
    flags: { data: 'flag-data', listen: '127.0.0.1:2000', admin: '0.0.0.0:2001', logLevel: 'error' },
    env: {},
    cwd: '/elsewhere',
  });
  assert.equal(config.data, '/elsewhere/flag-data');
  assert.equal(config.listen, '127.0.0.1:2000');
  // The admin URL follows --admin when the file does not name one; 0.0.0.0 is dialled as loopback.
  assert.deepEqual(config.admin, { listen: '0.0.0.0:2001', url: 'http://127.0.0.1:2001' });
  assert.equal(config.log.level, 'error');
  assert.equal(config.policy, join(dir, 'file-policy.yaml'), 'a flag that is not given leaves the file value');
  assert.equal(config.ledger.chain, 'east', 'settings without a flag come from the file');
});

test('an admin URL written in the file is kept when --admin moves the listener', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.yaml'), 'admin:\n  url: https://airlock.example.com\n');
  const config = resolveConfig({ configFile: join(dir, 'a.yaml'), flags: { admin: '0.0.0.0:9444' }, env: {} });
  assert.deepEqual(config.admin, { listen: '0.0.0.0:9444', url: 'https://airlock.example.com' });
});

test('AIRLOCK_CONFIG names the file when --config is absent; --config wins when both are given', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'env.yaml'), 'listen: 127.0.0.1:3000\n');
  writeFileSync(join(dir, 'flag.yaml'), 'listen: 127.0.0.1:4000\n');
  assert.equal(resolveConfig({ env: { AIRLOCK_CONFIG: 'env.yaml' }, cwd: dir }).listen, '127.0.0.1:3000');
  assert.equal(resolveConfig({ configFile: 'flag.yaml', env: { AIRLOCK_CONFIG: 'env.yaml' }, cwd: dir }).listen, '127.0.0.1:4000');
  assert.equal(resolveConfig({ env: { AIRLOCK_CONFIG: '' }, cwd: dir }).listen, '127.0.0.1:8443', 'an empty variable names no file');
});

test('a named file that does not exist is AIRLOCK_CONFIG_NOT_FOUND, never a silent fall-back to defaults', (t) => {
  const dir = tempDir(t);
  for (const options of [{ configFile: 'missing.yaml', env: {} }, { env: { AIRLOCK_CONFIG: 'missing.yaml' } }]) {
    assert.throws(
      () => resolveConfig({ ...options, cwd: dir }),
      (err: unknown) => isAirlockError(err, 'AIRLOCK_CONFIG_NOT_FOUND') && err.message.includes('missing.yaml'),
    );
  }
});

const badFlags: Array<[string, Record<string, string>, RegExp]> = [
  ['--listen without a port', { listen: 'localhost' }, /--listen: expected HOST:PORT/],
  ['--admin with a bare IPv6 address', { admin: '::1:9000' }, /--admin: expected HOST:PORT.*brackets/],
  ['--data that is empty', { data: '' }, /--data: expected a file path, got an empty string/],
  ['--policy that is empty', { policy: '' }, /--policy: expected a file path/],
  ['--log-level that is unknown', { logLevel: 'loud' }, /--log-level: expected one of trace, debug/],
];

for (const [name, flags, expected] of badFlags) {
  test(`${name} is refused with an error naming the flag`, () => {
    assert.throws(
      () => resolveConfig({ flags, env: {} }),
      (err: unknown) => isAirlockError(err, 'AIRLOCK_CONFIG_INVALID') && expected.test(err.message),
    );
  });
}

test('all bad flags are reported together', () => {
  assert.throws(
    () => resolveConfig({ flags: { listen: 'x', admin: 'y' }, env: {} }),
    (err: unknown) => isAirlockError(err, 'AIRLOCK_CONFIG_INVALID') && /2 problems:\n--listen: .*\n--admin: /.test(err.message),
  );
});

test('a flag does not hide an error in the section it overrides', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.yaml'), 'admin: 9000\n');
  assert.throws(
    () => resolveConfig({ configFile: join(dir, 'a.yaml'), flags: { admin: '127.0.0.1:9000' }, env: {} }),
    (err: unknown) => isAirlockError(err, 'AIRLOCK_CONFIG_INVALID') && /a\.yaml:1:8: admin: expected a map/.test(err.message),
  );
});

test('the file is interpolated from the given environment', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.yaml'), 'ledger:\n  store: postgres\n  postgres:\n    url: ${AIRLOCK_LEDGER_URL}\n');
  const config = resolveConfig({ configFile: join(dir, 'a.yaml'), env: { AIRLOCK_LEDGER_URL: 'postgres://airlock@db/airlock' } });
  assert.equal(config.ledger.postgres.url, 'postgres://airlock@db/airlock');
});
