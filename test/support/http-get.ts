/**
 * httpGet sends one plain HTTP GET on its own TCP connection (no keep-alive, so each call is a
 * new connection — what port-forward tests count) and resolves with the body.
 */
import http from 'node:http';

export function httpGet(port: number, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}
