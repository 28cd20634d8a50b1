/**
 * The schema of airlock's one configuration file. Every field is optional with a default
 * that suits a first try on a laptop, so an empty file (or no file) is a valid configuration.
 * Objects are strict: a misspelt key is an error, never silently ignored, because an ignored
 * `failureMod: open` would be a security setting the operator believes is in force.
 *
 * The schema checks shape and values only. load.ts adds what needs the file's location:
 * positions in error messages, `${ENV_VAR}` interpolation and absolute paths.
 * docs/configuration.md documents every field; keep the two in step.
 */
import * as z from 'zod';
import { durationSchema, hostPortSchema, logLevelSchema, pathSchema, urlSchema } from './fields.js';
import { parseHostPort, urlForListener } from './host-port.js';
import { identitySchema } from './identity-schema.js';
import { ledgerSchema } from './ledger-schema.js';
import { kubernetesConnectionSchema } from './kubernetes-schema.js';
import { reviewSchema } from './review-schema.js';

export const defaultListen = '127.0.0.1:8443';
export const defaultAdminListen = '127.0.0.1:8444';
export const defaultDataDir = './.airlock';

const adminSchema = z
  .strictObject({
    listen: hostPortSchema.default(defaultAdminListen),
    url: urlSchema(['http', 'https'], 'https://airlock.example.com:8444').optional(),
  })
  // The URL is derived after flags are applied, so `--admin 0.0.0.0:9000` moves it too,
  // unless the file names the URL explicitly (then that public name wins).
  .transform((admin) => {
    const address = parseHostPort(admin.listen);
    const derived = 'error' in address ? admin.listen : urlForListener(address, 'http');
    return { listen: admin.listen, url: admin.url ?? derived };
  });

/**
 * A protocol target, told apart by `type`. Kubernetes now; PostgreSQL joins the union next,
 * so an unknown type is an error naming the types airlock knows.
 */
const connectionSchema = z.discriminatedUnion('type', [kubernetesConnectionSchema], {
  error: 'expected a connection with `type: kubernetes`',
});

export const configSchema = z.strictObject({
  /** Data directory: ledger, keys, generated TLS. */
  data: pathSchema.default(defaultDataDir),
  /** The gateway listener. */
  listen: hostPortSchema.default(defaultListen),
  /** The gateway's TLS certificate; absent: a CA and certificate generated into `<data>/tls`. */
  tls: z
    .strictObject({
      cert: pathSchema,
      key: pathSchema,
      /** CA that signed `cert`, written into agent kubeconfigs (absent: the system roots). */
      ca: pathSchema.optional(),
    })
    .optional(),
  admin: adminSchema.prefault({}),
  log: z.strictObject({ level: logLevelSchema.default('info') }).prefault({}),
  /** Policy file; absent means the embedded default policy. */
  policy: pathSchema.optional(),
  identity: identitySchema.prefault({}),
  ledger: ledgerSchema.prefault({}),
  /** Approvals: holding requests, roles, notifications. */
  review: reviewSchema,
  /**
   * On SIGTERM, how long requests and streams in flight may take to finish before streams are
   * ended (with a Status saying airlock is shutting down) and connections cut.
   */
  shutdownTimeout: durationSchema.prefault('30s'),
  connections: z
    .array(connectionSchema, { error: 'expected a list of connections' })
    .default([])
    .superRefine((connections, ctx) => {
      const seen = new Map<string, number>();
      connections.forEach((connection, index) => {
        const first = seen.get(connection.name);
        if (first !== undefined) {
          ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `connection names must be unique; connections[${first}] has the same name` });
        } else {
          seen.set(connection.name, index);
        }
      });
    }),
});

/**
 * AirlockConfig is the validated configuration: defaults filled in, durations in
 * milliseconds, and (once loaded through load.ts or resolve.ts) every path absolute.
 */
export type AirlockConfig = z.output<typeof configSchema>;

/** ConnectionConfig is one entry of `connections`, with its type-specific fields untouched. */
export type ConnectionConfig = AirlockConfig['connections'][number];
