/**
 * What a listener that cannot bind tells the operator: which listener, which address, why in
 * plain words, and which setting moves it. A raw `listen EADDRINUSE` stack trace says none of
 * that, and a second airlock started by mistake is the usual cause.
 */
import { AirlockError } from '../errors.js';

const reasons: Record<string, string> = {
  EADDRINUSE: 'the address is in use (another airlock, or another program, listens there)',
  EADDRNOTAVAIL: 'no network interface of this machine has that address',
  EACCES: 'this user may not listen there (ports below 1024 need privileges)',
  EPERM: 'this user may not listen there',
};

/**
 * listenFailed turns a bind error into AIRLOCK_LISTEN_FAILED; any other error is returned
 * unchanged. `what` names the listener, `address` is host:port as configured, `setting` is
 * the flag and field that set it.
 */
export function listenFailed(err: unknown, what: string, address: string, setting: string): unknown {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string' || !(code in reasons)) return err;
  return new AirlockError('AIRLOCK_LISTEN_FAILED', `cannot listen on ${address} for the ${what}: ${reasons[code]}; choose another address with ${setting}`);
}
