import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SecretPromptGuard } from './secret-prompt.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/** typed runs an answer through the guard frame by frame: what is recorded, marker included. */
function typed(guard: SecretPromptGuard, frames: string[]): string {
  let out = '';
  for (const f of frames) {
    const { marker, rest } = guard.input(b(f));
    if (marker) out += '<hidden>';
    out += rest.toString('utf8');
  }
  return out;
}

test('an answer to each common secret prompt is hidden up to Enter; what follows is recorded', () => {
  for (const prompt of [
    'Password: ',
    '[sudo] password for app: ',
    'Password for user postgres: ',
    "Enter passphrase for key '~/.ssh/id_ed25519': ",
    'Enter PEM pass phrase:',
    'mysql: Enter password: ',
    'Vault token (will be hidden): ',
    '\x1b[1mPassword:\x1b[0m ',
    'Enter PIN? ',
    'Enter API key: ',
  ]) {
    const guard = new SecretPromptGuard();
    guard.output(b(`Last login: today\r\n${prompt}`));
    assert.equal(typed(guard, ['h', 'u', 'nter2', '\r', 'ls\r']), '<hidden>\rls\r', prompt);
  }
});

test('ordinary prompts and output do not hide typing', () => {
  for (const line of ['$ ', 'root@pod:~# ', 'Continue? [y/N] ', 'token refreshed\n', 'Password changed.\n$ ', 'Do you want to store the token? [y/N] ']) {
    const guard = new SecretPromptGuard();
    guard.output(b(line));
    assert.equal(typed(guard, ['echo hi\r']), 'echo hi\r', JSON.stringify(line));
  }
});

test('the prompt may come in pieces and the answer may end with Ctrl-C or Ctrl-D; a new prompt hides again', () => {
  const guard = new SecretPromptGuard();
  guard.output(b('[sudo] pass'));
  guard.output(b('word for app: '));
  assert.equal(typed(guard, ['secret1', '\x03']), '<hidden>\x03');
  assert.equal(typed(guard, ['ls\r']), 'ls\r', 'after the answer, typing is recorded');
  guard.output(b('\r\nSorry, try again.\r\n[sudo] password for app: '));
  assert.equal(typed(guard, ['secret2\rid\r']), '<hidden>\rid\r');
  guard.output(b('Password: '));
  assert.equal(typed(guard, ['x', '\x04']), '<hidden>\x04');
});

test('a large output frame ending in a prompt is read by its tail only', () => {
  const guard = new SecretPromptGuard();
  guard.output(b(`${'log line\n'.repeat(100_000)}Password: `));
  assert.equal(typed(guard, ['pw\n']), '<hidden>\n');
});
