/**
 * One benchmark scenario per child process, so each starts from a clean heap and its RSS
 * growth is its own: `direct` (pass-through, the floor), `masked-list`, `masked-watch`, and
 * `naive` (buffer the body, JSON.parse it whole, mask, stringify: what the streaming masker
 * avoids). RSS is sampled every 5 ms; growth is the peak minus the RSS before the run. CPU
 * time is reported next to wall time, because a shared machine stretches wall time.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough, Writable, type Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createPlaceholder } from '../../src/masking/placeholder.js';
import { maskResponseValue } from '../../src/masking/response-value.js';
import { createSecretMaskStream } from '../../src/masking/secret-mask-stream.js';
import { CLEAR_NEEDLE, secretListBuffer, secretListStream, watchStream, type Mix } from './generate.js';

export type ScenarioName = 'direct' | 'masked-list' | 'masked-watch' | 'naive';

export interface ScenarioResult {
  name: ScenarioName;
  mix: Mix;
  inputBytes: number;
  outputBytes: number;
  seconds: number;
  cpuSeconds: number;
  rssGrowthBytes: number;
  /** Output chunks that contained a clear value (expected 0 when masking, >0 direct). */
  leakedChunks: number;
}

const placeholder = createPlaceholder(randomBytes(32));

/** countingSink discards output, counting bytes and chunks that show a clear value. */
function countingSink(): { sink: Writable; stats: { bytes: number; leaks: number } } {
  const stats = { bytes: 0, leaks: 0 };
  const sink = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      stats.bytes += chunk.length;
      if (chunk.includes(CLEAR_NEEDLE, 0, 'latin1')) stats.leaks++;
      callback();
    },
  });
  return { sink, stats };
}

/** measure runs `work`, sampling RSS every 5 ms, and returns wall, CPU and peak RSS growth. */
async function measure<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number; cpuSeconds: number; rssGrowthBytes: number }> {
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const result = await work();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  clearInterval(timer);
  return { result, seconds, cpuSeconds: (used.user + used.system) / 1e6, rssGrowthBytes: Math.max(peak, process.memoryUsage.rss()) - base };
}

async function streamed(name: ScenarioName, mix: Mix, source: Readable, transform: Transform, bytes: number): Promise<ScenarioResult> {
  const { sink, stats } = countingSink();
  const run = await measure(() => pipeline(source, transform, sink));
  return { name, mix, inputBytes: bytes, outputBytes: stats.bytes, seconds: run.seconds, cpuSeconds: run.cpuSeconds, rssGrowthBytes: run.rssGrowthBytes, leakedChunks: stats.leaks };
}

async function naive(mix: Mix, bytes: number): Promise<ScenarioResult> {
  const run = await measure(async () => {
    const body = await secretListBuffer(bytes, mix);
    const value: unknown = JSON.parse(body.toString('utf8'));
    maskResponseValue(value, { placeholder, assumeSecret: true });
    return { inputBytes: body.length, out: Buffer.from(JSON.stringify(value)) };
  });
  const { inputBytes, out } = run.result;
  const leakedChunks = out.includes(CLEAR_NEEDLE, 0, 'latin1') ? 1 : 0;
  return { name: 'naive', mix, inputBytes, outputBytes: out.length, seconds: run.seconds, cpuSeconds: run.cpuSeconds, rssGrowthBytes: run.rssGrowthBytes, leakedChunks };
}

/** runScenario runs one scenario over about `bytes` bytes of generated Secret JSON. */
export async function runScenario(name: ScenarioName, mix: Mix, bytes: number): Promise<ScenarioResult> {
  globalThis.gc?.();
  switch (name) {
    case 'direct':
      return streamed(name, mix, secretListStream(bytes, mix), new PassThrough(), bytes);
    case 'masked-list':
      return streamed(name, mix, secretListStream(bytes, mix), createSecretMaskStream({ shape: 'list', placeholder }), bytes);
    case 'masked-watch':
      return streamed(name, mix, watchStream(bytes, mix), createSecretMaskStream({ shape: 'watch', placeholder }), bytes);
    case 'naive':
      return naive(mix, bytes);
  }
}
