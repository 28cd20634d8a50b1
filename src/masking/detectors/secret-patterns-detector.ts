/**
 * The fast secret detector: regexes for the high-value patterns secretlint's recommended
 * preset covers (AWS, GitHub, Slack, GCP service-account keys via `private-key`, DB URLs with a
 * password, `password=`-style assignments), written for a stream's hot path. secretlint itself
 * lints files asynchronously at a few MiB/s (see `secretlint-deep-scan.ts` and
 * bench/masking-streams), too slow and too async for a keystroke; this detector is registered
 * under the name `secretlint` so a rule naming secretlint gets it on streams.
 *
 * It never masks a key name, only the value, so output stays readable (`password=<masked>`).
 */
import { isPlaceholder } from '../placeholder.js';
import { anyCase, anyCaseTrigger, buildTriggerHold, endAnchoredHold, findWithRules, literalTrigger, type Detector, type RegexRule } from './detector.js';

const ASSIGN_KEYS = 'password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|auth';

// Every match of a token rule below contains one of these literals (`gh` of ghp_…, `github` of
// github_pat_, `k_live` of sk_live_ and rk_live_, `k.com/` of hooks.slack.com/) or one of the
// AWS and GCP key prefixes, which the regex finds; text without any (nearly all output) skips the
// nine token scans.
const TOKEN = literalTrigger(['gh', 'github', 'k_live', 'npm_', 'xox', 'xapp-', 'k.com/'], /A(?:KIA|SIA|BIA|CCA|GPA|IDA|ROA|NPA|NVA|PKA|Iza)/);
// Every credential key contains one of these in some case (`word` password, `wd` passwd and
// pwd, `phr` passphrase, `cret` secret, `ke` token and every key, `uth` auth; the AWS secret
// key's name holds `cret`): each led by a rarer letter than the key's first.
const KEY = anyCaseTrigger(['ke', 'wd', 'word', 'phr', 'cret', 'uth']);
// Every database URL has its `://`.
const SCHEME = literalTrigger(['://']);

/** The rules, in the order their findings are listed; exported for the tests. */
export const secretPatternRules: readonly RegexRule[] = [
  { kind: 'aws-access-key-id', pattern: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?![A-Z0-9])/dg, trigger: TOKEN },
  {
    kind: 'aws-secret-access-key',
    pattern: new RegExp(`${anyCase('aws_?secret_?(?:access_?)?key')}["']?\\s*[:=]\\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])`, 'dg'),
    group: 1,
    trigger: KEY,
  },
  { kind: 'github-token', pattern: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9_])/dg, trigger: TOKEN },
  { kind: 'github-token', pattern: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}(?![A-Za-z0-9_])/dg, trigger: TOKEN },
  { kind: 'slack-token', pattern: /(?<![A-Za-z0-9-])xox[baprsoe]-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])/dg, trigger: TOKEN },
  { kind: 'slack-token', pattern: /(?<![A-Za-z0-9-])xapp-\d-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])/dg, trigger: TOKEN },
  { kind: 'slack-webhook', pattern: /hooks\.slack\.com\/(?:services|workflows)\/([A-Za-z0-9+/_-]{20,})/dg, group: 1, trigger: TOKEN },
  { kind: 'gcp-api-key', pattern: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/dg, trigger: TOKEN },
  { kind: 'stripe-key', pattern: /(?<![A-Za-z0-9_])[sr]k_live_[0-9A-Za-z]{20,247}(?![A-Za-z0-9_])/dg, trigger: TOKEN },
  { kind: 'npm-token', pattern: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])/dg, trigger: TOKEN },
  {
    // scheme://user:PASSWORD@host — only the password is masked. The scan looks for `://` and
    // then back for the scheme, so ordinary text costs one quick search for a literal.
    kind: 'database-password',
    pattern: /:\/\/(?<=(?<![A-Za-z0-9+.-])(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|clickhouse|jdbc:[a-z]+):\/\/)[^\s:/@]+:([^\s@/]+)@/dg,
    group: 1,
    trigger: SCHEME,
  },
  {
    // KEY=value / "key": "value" / key: value where KEY names a credential.
    kind: 'credential-assignment',
    pattern: new RegExp(`(?:${anyCase(ASSIGN_KEYS)})[A-Za-z0-9_.-]*["']?[ \\t]*[:=][ \\t]*["']?([^\\s"'\`,;]{6,})`, 'dg'),
    boundary: /(?<![A-Za-z])/y,
    group: 1,
    trigger: KEY,
    // Not a secret: a stand-in, an empty word, a reference, structure (`"f:password":{}` in
    // managedFields, a JSON object or list), or airlock's own placeholder (plain or base64).
    accept: (v) => !/^(?:<?masked|\*+|x+|null|none|true|false|undefined|\$\{?[A-Za-z_]+\}?)$/i.test(v) && !/^[{[]/.test(v) && !isPlaceholder(v),
  },
];

const triggerHold = buildTriggerHold([
  'AKIA', 'ASIA', 'ABIA', 'ACCA', 'AGPA', 'AIDA', 'AROA', 'ANPA', 'ANVA', 'APKA',
  'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_', 'xox', 'xapp-', 'hooks.slack.com/',
  'AIza', 'sk_live_', 'rk_live_', 'npm_', '://',
]);
// An assignment may have blanks between key and value, which a token-based hold cannot see.
// It never spans a line, so only the last line is searched.
const assignHold = endAnchoredHold(
  new RegExp(`(?<![A-Za-z])(?:${ASSIGN_KEYS})[A-Za-z0-9_.-]*["']?[ \\t]*(?:[:=][ \\t]*["']?[^\\s"'\`,;]*)?$`, 'i'),
  512,
  true,
);
const keyPrefixHold = buildTriggerHold(['password', 'passwd', 'passphrase', 'pwd', 'secret', 'token', 'api_key', 'api-key', 'apikey',
  'access_key', 'access-key', 'accesskey', 'private_key', 'client_secret', 'auth', 'aws_secret', 'awssecret'], true);

/** secretPatternsDetector finds well-known credentials with regexes; it never throws. */
export const secretPatternsDetector: Detector = {
  name: 'secretlint',
  find: (text) => findWithRules(text, secretPatternRules),
  pendingStart: (text) => Math.min(triggerHold(text), assignHold(text), keyPrefixHold(text)),
};
