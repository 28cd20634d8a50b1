/**
 * Long-running Kubernetes requests, classified as kube-apiserver does with
 * `BasicLongRunningRequestCheck({watch, proxy}, {attach, exec, proxy, log, portforward})`
 * (reference `kubernetes-api.md` §1.5). airlock uses it to lift idle and request timeouts on
 * both legs and to record a "response started" stage before the stream ends.
 *
 * Pure: no I/O.
 */
import type { RequestInfo } from './request-info.js';

const LONG_RUNNING_VERBS = new Set(['watch', 'proxy']);
const LONG_RUNNING_SUBRESOURCES = new Set(['attach', 'exec', 'proxy', 'log', 'portforward']);

/**
 * isLongRunning reports watches, proxies and streaming subresources, plus the apiserver's
 * profiler paths (`/debug/pprof/…`), which it also exempts from timeouts.
 */
export function isLongRunning(info: RequestInfo): boolean {
  if (LONG_RUNNING_VERBS.has(info.verb)) return true;
  if (info.isResourceRequest) return LONG_RUNNING_SUBRESOURCES.has(info.subresource);
  return info.path.startsWith('/debug/pprof/');
}
