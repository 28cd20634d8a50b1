/**
 * A `kubernetes` connection: one cluster behind airlock, reached at
 * `https://<listen>/k8s/<name>`. The upstream block says how airlock reaches the cluster and
 * with which credential (which the agent never sees); `identity` says whom the cluster sees.
 */
import * as z from 'zod';
import { booleanSchema, durationSchema, nameSchema, pathSchema, urlSchema } from './fields.js';

const upstreamSchema = z
  .strictObject({
    /** The API server URL (may carry a path prefix). */
    url: urlSchema(['https', 'http'], 'https://10.0.0.1:6443').optional(),
    /** CA bundle that signs the API server's certificate. */
    ca: pathSchema.optional(),
    /** Skip verifying the API server's certificate (test clusters only). */
    insecure: booleanSchema.default(false),
    /** Bearer token (use ${ENV_VAR}); or `tokenFile`, re-read when it changes (projected tokens rotate). */
    token: z.string().min(1).optional(),
    tokenFile: pathSchema.optional(),
    /** Client certificate and key files. */
    clientCert: pathSchema.optional(),
    clientKey: pathSchema.optional(),
    /** A kubeconfig file and optional context, instead of the fields above. */
    kubeconfig: pathSchema.optional(),
    context: z.string().min(1).optional(),
    /** Use the pod's own service account (KUBERNETES_SERVICE_HOST, the mounted token and CA). */
    inCluster: booleanSchema.default(false),
  })
  .superRefine((u, ctx) => {
    const ways = [u.url !== undefined, u.kubeconfig !== undefined, u.inCluster].filter(Boolean).length;
    if (ways !== 1) {
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of `url` (with a credential), `kubeconfig` or `inCluster: true`' });
    }
    if (u.context !== undefined && u.kubeconfig === undefined) {
      ctx.addIssue({ code: 'custom', path: ['context'], message: '`context` only applies with `kubeconfig`' });
    }
    if (u.token !== undefined && u.tokenFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['tokenFile'], message: 'give either `token` or `tokenFile`, not both' });
    }
    if ((u.clientCert === undefined) !== (u.clientKey === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['clientKey'], message: '`clientCert` and `clientKey` go together' });
    }
    if (u.url !== undefined && u.token === undefined && u.tokenFile === undefined && u.clientCert === undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'a `url` upstream needs a credential: `token`, `tokenFile` or `clientCert`/`clientKey`' });
    }
  });

const identitySchema = z
  .strictObject({
    /**
     * `impersonate` (default): the cluster sees the caller through Impersonate-* headers, so its
     * RBAC and audit log name the real principal. `fixed`: every request uses airlock's own
     * upstream credential (a dedicated service account), with no impersonation.
     */
    mode: z.enum(['impersonate', 'fixed'], { error: 'expected impersonate or fixed' }).default('impersonate'),
    /** Prefix added to the subject in Impersonate-User (e.g. `airlock:`). */
    userPrefix: z.string().default(''),
    /** Prefix added to every group in Impersonate-Group. */
    groupPrefix: z.string().default(''),
    /** Groups added to every impersonated caller (e.g. `airlock:agents`). */
    groups: z.array(z.string().min(1)).default([]),
    /** Send Impersonate-Uid (needs `impersonate` on `uids`). */
    uid: booleanSchema.default(false),
    /** Send Impersonate-Extra-airlock.dev%2F… (issuer, token id; needs `impersonate` on `userextras/*`). */
    extra: booleanSchema.default(false),
  })
  .prefault({});

const positiveDuration = durationSchema.refine((ms) => ms > 0, { error: 'expected a duration longer than 0' });

const streamsSchema = z
  .strictObject({
    /** An exec or attach session with nothing sent either way for this long is ended. */
    idleTimeout: positiveDuration.prefault('30m'),
    /** No exec or attach session lasts longer than this, however busy. */
    maxDuration: positiveDuration.prefault('8h'),
    /**
     * Port-forward connections are always recorded (open, close, port, bytes each way); with
     * this on, the bytes they carry are recorded too, masked by the stream detectors.
     */
    portForwardCapture: booleanSchema.default(false),
  })
  .prefault({});

export const kubernetesConnectionSchema = z.strictObject({
  name: nameSchema,
  type: z.literal('kubernetes'),
  upstream: upstreamSchema,
  identity: identitySchema,
  /**
   * Accept the cluster's own service-account tokens from in-cluster agents, verified by a
   * TokenReview against this cluster (airlock's upstream credential needs `create` on
   * tokenreviews).
   */
  serviceAccountTokens: booleanSchema.default(false),
  /** Largest request body airlock reads (bytes; the apiserver's own limit is 3 MiB). */
  maxRequestBody: z.number().int().positive().default(3 * 1024 * 1024),
  /** Limits on exec, attach and port-forward sessions (a session also ends when the caller's token expires), and port-forward capture. */
  streams: streamsSchema,
  /** A sandbox is the built-in local fake API server of the quick start; set by airlock only. */
  sandbox: booleanSchema.default(false),
});

export type KubernetesConnectionConfig = z.output<typeof kubernetesConnectionSchema>;
