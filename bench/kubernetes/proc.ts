/**
 * Reading another process's memory and CPU time from Linux's /proc, so that the benchmark
 * measures the gateway process itself (airlock or kubectl proxy) rather than its own heap.
 * Everything here returns undefined where /proc is missing (not Linux) instead of throwing;
 * the benchmark then prints "n/a".
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** USER_HZ: the unit of utime/stime in /proc/PID/stat; 100 on every mainstream Linux build. */
const TICKS_PER_SECOND = 100;

function status(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
}

function kilobytes(text: string | undefined, field: string): number | undefined {
  const m = text === undefined ? null : new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** rssBytes is the process's resident set now (VmRSS). */
export function rssBytes(pid: number): number | undefined {
  return kilobytes(status(pid), 'VmRSS');
}

/** peakRssBytes is the highest resident set since start or since resetPeakRss (VmHWM). */
export function peakRssBytes(pid: number): number | undefined {
  return kilobytes(status(pid), 'VmHWM');
}

/**
 * resetPeakRss sets VmHWM back to the current RSS (writing 5 to clear_refs, Linux ≥ 4.0), so
 * a scenario's peak is its own; it returns false where that is not allowed.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

function statCpuSeconds(path: string): number | undefined {
  try {
    const stat = readFileSync(path, 'latin1');
    // The command name (field 2) may contain spaces; fields are counted after its closing ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** cpuSeconds is the user + system CPU time the process (all its threads) has used so far. */
export function cpuSeconds(pid: number): number | undefined {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/**
 * mainThreadCpuSeconds is the CPU time of the process's first thread alone: for Node.js, the
 * event loop; the rest is worker threads (airlock's ledger writer), GC and libuv helpers.
 */
export function mainThreadCpuSeconds(pid: number): number | undefined {
  return statCpuSeconds(`/proc/${pid}/task/${pid}/stat`);
}

export interface RssSampler {
  /** stop ends sampling and returns the highest VmRSS seen (undefined without /proc). */
  stop(): number | undefined;
}

/** sampleRss reads VmRSS every `everyMs` until stopped: a peak that needs no clear_refs. */
export function sampleRss(pid: number, everyMs = 5): RssSampler {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    const now = rssBytes(pid);
    if (now !== undefined && (peak === undefined || now > peak)) peak = now;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const now = rssBytes(pid);
      if (now !== undefined && (peak === undefined || now > peak)) peak = now;
      return peak;
    },
  };
}
