/**
 * HOST:PORT listener addresses, as written in configuration and flags: `127.0.0.1:8443`,
 * `localhost:8443`, `0.0.0.0:8443`, `[::1]:8443`. An IPv6 address must be bracketed, as in
 * a URL (RFC 3986 §3.2.2): `::1:8443` is ambiguous, so it is refused rather than guessed.
 * Port 0 is accepted and means "any free port", which tests rely on.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface HostPort {
  /** Host name or IP address, without brackets (ready for `server.listen(port, host)`). */
  host: string;
  port: number;
}

/** What a HOST:PORT problem looks like to a user; used by the schema and flag errors. */
export const hostPortExpectation = 'expected HOST:PORT, e.g. 127.0.0.1:8443, 0.0.0.0:8443 or [::1]:8443';

const dnsName = /^(?=.{1,253}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/**
 * parseHostPort splits `HOST:PORT`; it returns a reason string instead of a value when the
 * text is not a valid listener address (the schema turns the reason into a config error).
 */
export function parseHostPort(text: string): HostPort | { error: string } {
  const bracketed = /^\[([^\]]*)\]:(\d+)$/.exec(text);
  if (bracketed) {
    const [, host = '', port = ''] = bracketed;
    if (!isIPv6(host)) return { error: `${hostPortExpectation} (the part in brackets must be an IPv6 address)` };
    return withPort(host, port);
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { error: `${hostPortExpectation} (the port is missing)` };
  const host = text.slice(0, colon);
  const port = text.slice(colon + 1);
  if (host === '') return { error: `${hostPortExpectation} (the host is missing; 0.0.0.0 listens on every interface)` };
  if (host.includes(':')) return { error: `${hostPortExpectation} (put an IPv6 address in brackets)` };
  if (!isIPv4(host) && !dnsName.test(host)) return { error: `${hostPortExpectation} (the host is not an IP address or a DNS name)` };
  return withPort(host, port);
}

/** formatHostPort is the inverse of parseHostPort: it brackets IPv6 hosts. */
export function formatHostPort({ host, port }: HostPort): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * urlForListener derives the URL a local client uses to reach a listener. An unspecified
 * address (0.0.0.0, ::) accepts connections but cannot be dialled, so the loopback address
 * of the same family stands in for it; a server reachable under another name needs its URL
 * configured explicitly.
 */
export function urlForListener(address: HostPort, scheme: 'http' | 'https'): string {
  let host = address.host;
  if (host === '0.0.0.0') host = '127.0.0.1';
  else if (isIPv6(host) && /^[0:]+$/.test(host)) host = '::1';
  return `${scheme}://${formatHostPort({ host, port: address.port })}`;
}

function withPort(host: string, portText: string): HostPort | { error: string } {
  if (!/^\d{1,5}$/.test(portText)) return { error: `${hostPortExpectation} (the port must be a number from 0 to 65535)` };
  const port = Number(portText);
  if (port > 65535) return { error: `${hostPortExpectation} (the port must be a number from 0 to 65535)` };
  return { host, port };
}
