/**
 * The permanent bypass suite for path safety: one named row per way past a rule. A row is
 * never removed; a new trick gets a new row. Each row is also tried behind the connection
 * prefix, since that is how requests arrive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPath, type PathRule } from './path-safety.js';

const bypasses: Array<[name: string, target: string, rule: PathRule]> = [
  // Encoded separators: Go decodes before splitting, so the name/subresource shift.
  ['encoded slash splits a name in two', '/api/v1/namespaces/a/pods/x%2Fexec', 'encoded-separator'],
  ['encoded slash in lower case', '/api/v1/namespaces/a/pods/x%2fexec', 'encoded-separator'],
  ['encoded backslash', '/api/v1/namespaces/a/pods/x%5Cexec', 'encoded-separator'],
  ['encoded backslash in lower case', '/api/v1/namespaces/a/pods/x%5cexec', 'encoded-separator'],
  ['raw backslash, a "/" to WHATWG parsers', '/api/v1/namespaces/a/pods/x\\exec', 'backslash'],
  // Dot segments: normalised away by some parsers, kept by Go.
  ['dot-dot segment', '/api/v1/namespaces/a/pods/../secrets', 'dot-segment'],
  ['dot segment', '/api/v1/namespaces/a/./secrets', 'dot-segment'],
  ['trailing dot-dot', '/api/v1/namespaces/a/secrets/..', 'dot-segment'],
  ['encoded dot-dot', '/api/v1/namespaces/a/pods/%2E%2E/secrets', 'encoded-unreserved'],
  ['encoded dot-dot in lower case', '/api/v1/namespaces/a/pods/%2e%2e/secrets', 'encoded-unreserved'],
  ['half-encoded dot-dot', '/api/v1/namespaces/a/pods/.%2E/secrets', 'encoded-unreserved'],
  ['overlong UTF-8 dot', '/api/v1/namespaces/a/pods/%C0%AE%C0%AE/secrets', 'non-ascii'],
  ['fullwidth solidus a normaliser turns into "/"', '/api/v1/namespaces/a/pods/x%EF%BC%8Fexec', 'non-ascii'],
  // Empty segments shift every part for Go's splitPath.
  ['double slash in the middle', '/api//v1/pods', 'empty-segment'],
  ['leading double slash (authority to a naive parser)', '//api/v1/pods', 'empty-segment'],
  ['double trailing slash', '/api/v1/pods//', 'empty-segment'],
  // Matrix parameters and fragments.
  ['semicolon parameter stripped by some servers', '/api/v1/namespaces/a/pods;x=y/p', 'semicolon'],
  ['Tomcat-style "..;/"', '/api/v1/namespaces/a/pods/..;/secrets', 'semicolon'],
  ['raw "#" cuts the path for WHATWG, not for Go', '/api/v1/namespaces/a/pods/p#/exec', 'fragment'],
  // Double decoding.
  ['double-encoded slash', '/api/v1/namespaces/a/pods/x%252Fexec', 'encoded-delimiter'],
  ['encoded "?" that starts a query once decoded', '/api/v1/namespaces/a/pods/x%3Fwatch=1', 'encoded-delimiter'],
  ['encoded "#"', '/api/v1/namespaces/a/pods/x%23y', 'encoded-delimiter'],
  // Controls and invisible characters.
  ['raw NUL', '/api/v1/pods/a\u0000b', 'control-character'],
  ['encoded NUL truncates C-string parsers', '/api/v1/pods/a%00b', 'control-character'],
  ['encoded line feed splits log lines', '/api/v1/pods/a%0Ab', 'control-character'],
  ['encoded carriage return', '/api/v1/pods/a%0Db', 'control-character'],
  ['encoded tab', '/api/v1/pods/a%09b', 'control-character'],
  ['encoded DEL', '/api/v1/pods/a%7Fb', 'control-character'],
  ['encoded C1 next-line', '/api/v1/pods/a%C2%85b', 'non-ascii'],
  ['encoded right-to-left override shown to an approver', '/api/v1/namespaces/%E2%80%AEdorp/secrets', 'non-ascii'],
  ['encoded zero-width space', '/api/v1/namespaces/pr%E2%80%8Bod/secrets', 'non-ascii'],
  ['encoded byte-order mark', '/api/v1/namespaces/%EF%BB%BFprod/secrets', 'non-ascii'],
  ['Cyrillic homoglyph of "prod"', '/api/v1/namespaces/pr%D0%BEd/secrets', 'non-ascii'],
  ['raw non-ASCII character', '/api/v1/namespaces/prod\u00e9/secrets', 'raw-non-ascii'],
  // Invalid or non-canonical escapes.
  ['invalid escape', '/api/v1/pods/%zz', 'invalid-percent-encoding'],
  ['truncated escape', '/api/v1/pods/a%2', 'invalid-percent-encoding'],
  ['lone percent at the end', '/api/v1/pods/a%', 'invalid-percent-encoding'],
  ['percent-percent', '/api/v1/pods/%%41', 'invalid-percent-encoding'],
  ['invalid UTF-8 byte', '/api/v1/pods/%FF', 'non-ascii'],
  ['encoded surrogate', '/api/v1/pods/%ED%A0%80', 'non-ascii'],
  ['encoded letter', '/api/v1/namespaces/a/%73ecrets', 'encoded-unreserved'],
  ['encoded digit', '/api/v%31/pods', 'encoded-unreserved'],
  ['encoded tilde', '/api/v1/pods/%7E', 'encoded-unreserved'],
  ['encoded hyphen', '/api/v1/namespaces/kube%2Dsystem/secrets', 'encoded-unreserved'],
  ['lower-case hex for a reserved character', '/api/v1/pods/a%3ab', 'lowercase-percent-encoding'],
  // Characters that must be encoded.
  ['raw space', '/api/v1/pods/a b', 'invalid-character'],
  ['raw double quote', '/api/v1/pods/a"b', 'invalid-character'],
  ['raw angle bracket', '/api/v1/pods/<a>', 'invalid-character'],
  ['raw pipe', '/api/v1/pods/a|b', 'invalid-character'],
  ['raw brace', '/api/v1/pods/{a}', 'invalid-character'],
  ['raw caret', '/api/v1/pods/a^b', 'invalid-character'],
  ['raw backtick', '/api/v1/pods/a`b', 'invalid-character'],
  ['raw plus, a space to form decoders', '/api/v1/pods/a+b', 'invalid-character'],
  // Target shapes.
  ['relative path', 'api/v1/pods', 'not-absolute'],
  ['empty target', '', 'not-absolute'],
  ['asterisk-form', '*', 'not-absolute'],
  ['absolute-form with a foreign host', 'http://evil.example/api/v1/pods', 'not-absolute'],
  // Query: the pairs Go drops or reads differently.
  ['";" in the query, whose pair Go drops', '/api/v1/pods?watch=false;x=1&watch=true', 'semicolon'],
  ['bad escape in the query, whose pair Go drops', '/api/v1/pods?watch=%zz&watch=0', 'invalid-percent-encoding'],
  ['"#" in the query, data to Go and a fragment to WHATWG', '/api/v1/pods?watch=false#&watch=true', 'fragment'],
  ['invalid UTF-8 in a query value', '/api/v1/secrets?fieldSelector=metadata.name%3D%FF', 'invalid-utf8'],
  ['overlong UTF-8 in a query key', '/api/v1/pods?%C0%AEwatch=1', 'invalid-utf8'],
  ['raw control character in the query', '/api/v1/pods?watch=\u0001', 'control-character'],
  ['raw non-ASCII character in the query', '/api/v1/pods?labelSelector=app%3D\u00e9', 'raw-non-ascii'],
  ['raw trailing space in the query, trimmed by WHATWG and kept by Go', '/api/v1/pods? ', 'invalid-character'],
];

for (const [name, target, rule] of bypasses) {
  test(`bypass refused: ${name}`, () => {
    const result = checkPath(target);
    assert.equal(result.ok, false, `accepted ${JSON.stringify(target)}`);
    assert.equal(result.ok ? undefined : result.rule, rule);
  });
  if (target.startsWith('/')) {
    test(`bypass refused behind the connection prefix: ${name}`, () => {
      assert.equal(checkPath(`/k8s/prod${target}`).ok, false);
    });
  }
}
