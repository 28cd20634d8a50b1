/**
 * The upstream of the streams benchmark, in its own process so that its CPU is not the
 * client's: the fake Kubernetes API server of the tests (a labelled test double, not a
 * cluster), which serves exec over WebSocket with a scripted container. Before it reports
 * ready it writes the file the throughput run `cat`s into the pod, so that generating the
 * bytes is never inside a timed run.
 *
 * Started by index.ts with `fork`; it sends one `FakeReady` message over IPC and runs until
 * the parent disconnects.
 */
import { parseArgs } from 'node:util';
import { startFakeApiServer } from '../../test/fixtures/fake-apiserver/index.js';
import { outputText } from './output-text.js';

export interface FakeReady {
  url: string;
  caCert: string;
  token: string;
  namespace: string;
  pod: string;
  /** the path of the generated file in the pod, and its size */
  file: string;
  fileBytes: number;
}

const { values } = parseArgs({ options: { 'file-bytes': { type: 'string', default: String(100 * 1024 * 1024) } } });

const fake = await startFakeApiServer();
const namespace = 'default';
const pod = 'web-7d4b9c6f5-k2x8p';
const file = '/var/log/bench.log';
const data = outputText(Number(values['file-bytes']));
fake.writePodFile(namespace, pod, file, data);
const ready: FakeReady = { url: fake.url, caCert: fake.caCert ?? '', token: fake.token, namespace, pod, file, fileBytes: data.length };
process.send?.(ready);
process.on('disconnect', () => {
  void fake.close().then(() => process.exit(0));
});
