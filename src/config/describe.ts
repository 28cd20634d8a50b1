/**
 * What airlock prints about its configuration: a short summary for the startup banner and
 * `airlock config check`, and a redacted copy for structured logs. Neither ever contains a
 * secret: passwords in URLs, credential-looking query parameters and header values are
 * replaced, and connection fields whose names look like credentials are dropped to a marker.
 */
import { formatDuration } from './duration.js';
import type { AirlockConfig } from './schema.js';

const redacted = '[redacted]';
// Inside a URL the marker must survive serialisation unescaped (`[` would become `%5B`).
const urlMarker = 'REDACTED';
const secretName = /pass(word)?|secret|token|credential|api[-_]?key|private[-_]?key|auth/i;

/** describeConfig returns a few human-readable lines summarising the configuration, secrets redacted. */
export function describeConfig(config: AirlockConfig): string {
  const { identity, ledger } = config;
  const issuers = identity.issuers.map((i) => `${i.name} (${redactUrl(i.issuer)})`);
  const identityLine = [
    identity.builtin.enabled
      ? `built-in issuer (audience ${identity.builtin.audience}, tokens up to ${formatDuration(identity.builtin.maxTtl)})`
      : 'built-in issuer off',
    issuers.length > 0 ? `OIDC: ${issuers.join(', ')}` : 'no OIDC issuers',
  ].join('; ');
  const store =
    ledger.store === 'postgres'
      ? `postgres ${ledger.postgres.url === undefined ? '(no url)' : redactUrl(ledger.postgres.url)} schema ${ledger.postgres.schema}`
      : `sqlite ${ledger.sqlite.path}`;
  const witnesses = ledger.witness.map((w) => {
    if (w.file !== undefined) return `file ${w.file}`;
    const headers = Object.keys(w.headers ?? {}).map((name) => `${name}: ${redacted}`);
    return `url ${redactUrl(w.url ?? '')}${headers.length > 0 ? ` (${headers.join(', ')})` : ''}`;
  });
  const connections = config.connections.map((c) => `${c.name} (${c.type})`);

  const rows: Array<[string, string]> = [
    ['data', config.data],
    ['listen', config.listen],
    ['admin', `${config.admin.listen} (${redactUrl(config.admin.url)})`],
    ['log level', config.log.level],
    ['policy', config.policy ?? 'embedded default policy'],
    ['identity', identityLine],
    [
      'ledger',
      `${store}; chain ${ledger.chain}; checkpoint every ${ledger.checkpoint.entries} entries or ` +
        `${formatDuration(ledger.checkpoint.interval)}; fails ${ledger.failureMode}`,
    ],
    ['witnesses', witnesses.length > 0 ? witnesses.join('; ') : 'none'],
    ['connections', connections.length > 0 ? connections.join(', ') : 'none'],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => `${label.padEnd(width)}${value}`).join('\n');
}

/**
 * redactConfig returns a deep copy that is safe to log: URL passwords and credential query
 * parameters, witness header values, and credential-named connection fields are replaced.
 */
export function redactConfig(config: AirlockConfig): AirlockConfig {
  return {
    ...config,
    admin: { ...config.admin, url: redactUrl(config.admin.url) },
    identity: {
      ...config.identity,
      issuers: config.identity.issuers.map((i) => ({
        ...i,
        issuer: redactUrl(i.issuer),
        ...(i.jwksUri === undefined ? {} : { jwksUri: redactUrl(i.jwksUri) }),
      })),
    },
    ledger: {
      ...config.ledger,
      postgres: {
        ...config.ledger.postgres,
        ...(config.ledger.postgres.url === undefined ? {} : { url: redactUrl(config.ledger.postgres.url) }),
      },
      witness: config.ledger.witness.map((w) => ({
        ...w,
        ...(w.url === undefined ? {} : { url: redactUrl(w.url) }),
        ...(w.headers === undefined ? {} : { headers: Object.fromEntries(Object.keys(w.headers).map((k) => [k, redacted])) }),
      })),
    },
    connections: config.connections.map((c) => redactValue(c) as AirlockConfig['connections'][number]),
  };
}

/**
 * redactUrl hides the password in a URL's user-info and the values of query parameters
 * whose names suggest credentials (libpq accepts `?password=`). Text that is not a URL is
 * returned whole only when it cannot carry such parts.
 */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text.includes('@') || text.includes('=') ? redacted : text;
  }
  // `user:pw@host` parses as scheme `user:` with an opaque path: no user-info to redact.
  if (url.host === '' && text.includes('@')) return redacted;
  let changed = false;
  if (url.password !== '') {
    url.password = urlMarker;
    changed = true;
  }
  for (const name of [...url.searchParams.keys()]) {
    if (secretName.test(name)) {
      url.searchParams.set(name, urlMarker);
      changed = true;
    }
  }
  // Unchanged text is returned as written: URL.href would add a trailing slash to an origin.
  return changed ? url.href : text;
}

/** redactValue walks pass-through data (connections) whose fields airlock does not know yet. */
function redactValue(value: unknown, key = ''): unknown {
  if (key !== '' && secretName.test(key) && value !== null && typeof value !== 'object') return redacted;
  if (Array.isArray(value)) return value.map((item) => redactValue(item));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, k)]));
  }
  if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return redactUrl(value);
  return value;
}
