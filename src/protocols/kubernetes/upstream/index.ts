/**
 * Reaching a cluster: airlock's own connection to a Kubernetes API server (from a URL and
 * credential, a kubeconfig, or the pod's service account), the impersonation headers that
 * make the cluster see the real caller, and TokenReview for in-cluster agents' tokens.
 * See docs/kubernetes.md, "Connecting airlock to a cluster".
 */
export { openUpstream, refusedCredential, sendRenewing, upstreamConnectTimeoutMs, upstreamPath, type OpenUpstreamOptions, type Upstream } from './upstream.js';
export { execTokenSource, type ExecPluginSpec, type ExecTokenSource } from './exec-plugin.js';
export { readKubeconfigTarget, type KubeconfigOptions } from './kubeconfig-file.js';
export { inClusterTarget, serviceAccountRoot, type InClusterOptions } from './in-cluster.js';
export { defaultTokenCheckIntervalMs, fileTokenSource, staticTokenSource, type FileTokenSourceOptions, type TokenSource } from './token-source.js';
export type { Material, TokenSpec, UpstreamTarget } from './target.js';
export {
  extraHeaderName,
  extraKeys,
  headerKeyEscape,
  impersonationHeaders,
  principalUid,
  type IdentityMapping,
} from './impersonation.js';
export { createTokenReviewer, reviewServiceAccountToken, type TokenReviewer, type TokenReviewerOptions } from './token-review.js';
