import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectDetectors, DEFAULT_DETECTORS } from './detectors/registry.js';
import { maskRecordedJson, maskRecordedLines, maskRecordedText } from './recorded-body.js';

const detectors = selectDetectors(DEFAULT_DETECTORS);
// Synthetic credentials in the shapes the detectors know; none grants anything.
const PASSWORD = 'recorded-pass-9d8c7b6a';
const GITHUB = `ghp_${'FakeRecordedToken0123456789abcdefghij'.slice(0, 36)}`;

describe('maskRecordedJson', () => {
  it('masks a ConfigMap key that names a credential, a token anywhere, and a database URL password; the rest is unchanged', () => {
    const configMap = { kind: 'ConfigMap', metadata: { name: 'app', annotations: { deployer: GITHUB } }, data: { DB_PASSWORD: PASSWORD, DATABASE_URL: `postgres://app:${PASSWORD}@db:5432/app`, mode: 'blue' } };
    const masked = JSON.parse(maskRecordedJson(JSON.stringify(configMap), detectors));
    assert.equal(masked.data.DB_PASSWORD, '[masked credential-assignment]');
    assert.equal(masked.data.DATABASE_URL, 'postgres://app:[masked database-password]@db:5432/app');
    assert.equal(masked.metadata.annotations.deployer, '[masked github-token]');
    assert.equal(masked.data.mode, 'blue');
    assert.ok(!JSON.stringify(masked).includes(PASSWORD) && !JSON.stringify(masked).includes(GITHUB));
  });

  it('masks an env literal by its variable name, wherever the pod spec sits', () => {
    const deployment = { spec: { template: { spec: { containers: [{ name: 'api', env: [{ name: 'API_TOKEN', value: PASSWORD }, { name: 'LOG_LEVEL', value: 'debug' }] }] } } } };
    const masked = JSON.parse(maskRecordedJson(JSON.stringify(deployment), detectors));
    assert.deepEqual(masked.spec.template.spec.containers[0].env, [{ name: 'API_TOKEN', value: '[masked credential-assignment]' }, { name: 'LOG_LEVEL', value: 'debug' }]);
  });

  it('masks inside JSON kept in a string, as kubectl keeps the last-applied manifest', () => {
    const applied = JSON.stringify({ kind: 'Deployment', spec: { template: { spec: { containers: [{ env: [{ name: 'DB_PASSWORD', value: PASSWORD }] }] } } } });
    const object = { metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `${applied}\n` } } };
    const out = maskRecordedJson(JSON.stringify(object), detectors);
    assert.ok(!out.includes(PASSWORD), out);
    const annotation = JSON.parse(out).metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'];
    assert.equal(JSON.parse(annotation).spec.template.spec.containers[0].env[0].value, '[masked credential-assignment]');
  });

  it('keeps escapes whole: a value with a quote and a backslash stays valid JSON', () => {
    // In the JSON text the value reads `abcdefgh\\\"x`: masked as text, the cut would fall inside an escape.
    const text = JSON.stringify({ data: { password: 'abcdefgh\\"x', note: 'say "hi"\n' } });
    const out = maskRecordedJson(text, detectors);
    const masked = JSON.parse(out);
    assert.ok(masked.data.password.startsWith('[masked credential-assignment]'), out);
    assert.ok(!masked.data.password.includes('abcdefgh'), out);
    assert.equal(masked.data.note, 'say "hi"\n');
  });

  it('returns a body with nothing to mask as the same text, unparsed', () => {
    const text = '{"kind":"ConfigMap","data":{"mode":"blue"},  "spaced": true}';
    assert.equal(maskRecordedJson(text, detectors), text);
  });

  it('masks text that is not JSON (a truncated copy) as text', () => {
    const cut = `{"data":{"DB_PASSWORD":"${PASSWORD}","more":"`;
    const out = maskRecordedJson(cut, detectors);
    assert.ok(!out.includes(PASSWORD), out);
    assert.ok(out.startsWith('{"data":{"DB_PASSWORD":'));
    assert.ok(!maskRecordedText(Buffer.from(`token=${GITHUB}`), detectors).toString().includes(GITHUB));
  });

  it('masks a watch stream line by line, each event as JSON', () => {
    const event = (value: string) => JSON.stringify({ type: 'ADDED', object: { kind: 'ConfigMap', data: { api_token: value, mode: 'blue' } } });
    const chunk = Buffer.from(`${event(PASSWORD)}\n${event('x')}\n{"type":"MODIFIED","object":{"data":{"password":"${PASSWORD}`);
    const out = maskRecordedLines(chunk, detectors).toString();
    assert.ok(!out.includes(PASSWORD), out);
    const [first, second] = out.split('\n');
    assert.equal(JSON.parse(first!).object.data.api_token, '[masked credential-assignment]');
    assert.equal(JSON.parse(second!).object.data.api_token, 'x');
    const quiet = Buffer.from(`${event('x')}\n`);
    assert.equal(maskRecordedLines(quiet, detectors), quiet, 'nothing to mask: the same bytes');
  });

  it('masks JSON nested deeper than any object as text, without walking it', () => {
    const deep = `${'{"a":'.repeat(5000)}{"password":"${PASSWORD}"}${'}'.repeat(5000)}`;
    const out = maskRecordedJson(deep, detectors);
    assert.ok(!out.includes(PASSWORD));
    assert.equal(out.length < deep.length + 100, true);
  });
});
