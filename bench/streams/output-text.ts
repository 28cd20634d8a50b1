/**
 * The bytes the throughput run sends as a container's stdout: application log lines, as
 * `kubectl exec … -- cat /var/log/app.log` would print them. Text, not zeros: the stream
 * masker looks at every byte, and zeros or random binary would measure a case no terminal
 * shows. Some lines carry a request id in hex and a base64 payload, so the detectors meet
 * long tokens; none is a secret, so nothing is masked and both routes deliver the same bytes.
 */

const LEVELS = ['INFO', 'INFO', 'INFO', 'WARN', 'DEBUG', 'ERROR'];
const PATHS = ['/api/orders', '/api/orders/{id}', '/healthz', '/api/users/{id}/cart', '/metrics'];

/** line returns the n-th log line; deterministic, so every run sends the same bytes. */
function line(n: number): string {
  const level = LEVELS[n % LEVELS.length] ?? 'INFO';
  const path = PATHS[(n * 7) % PATHS.length] ?? '/';
  const ms = (n * 37) % 1000;
  const id = ((n * 2654435761) >>> 0).toString(16).padStart(8, '0');
  const seconds = String(n % 60).padStart(2, '0');
  const base = `2026-11-26T14:${String(Math.floor(n / 60) % 60).padStart(2, '0')}:${seconds}.${String(ms).padStart(3, '0')}Z ${level} request_id=${id}${id} method=GET path=${path} status=200 duration_ms=${ms % 97}`;
  return n % 5 === 0 ? `${base} payload=${Buffer.from(`order ${n} of cart ${id}`).toString('base64')}\n` : `${base}\n`;
}

/** outputText returns exactly `bytes` bytes of log lines (the last one cut short). */
export function outputText(bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (let n = 0; at < bytes; n++) at += out.write(line(n), at, 'latin1');
  return out;
}
