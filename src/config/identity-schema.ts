/**
 * The `identity` section: the built-in issuer and the OIDC issuers airlock trusts.
 *
 * The rules here are the ones that protect token verification from configuration mistakes:
 * an issuer is https unless explicitly marked insecure (a token fetched over plain http can
 * be forged by anyone on the path), and symmetric or unsigned algorithms are refused outright
 * (`none` accepts any token; HS* lets every party holding the shared secret mint tokens).
 */
import * as z from 'zod';
import { booleanSchema, durationSchema, nameSchema, pathSchema, urlSchema } from './fields.js';

/** Asymmetric JWS algorithms that jose verifies; the only ones an issuer may list. */
export const allowedAlgorithms = [
  'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512',
  'EdDSA', 'Ed25519',
] as const;

const algorithmSchema = z.string({ error: 'expected an algorithm name such as RS256' }).superRefine((alg, ctx) => {
  if (alg.toLowerCase() === 'none') {
    ctx.addIssue({ code: 'custom', message: 'algorithm `none` is refused: it accepts unsigned tokens; use RS256, ES256 or EdDSA' });
  } else if (/^hs\d+$/i.test(alg)) {
    ctx.addIssue({
      code: 'custom',
      message: `algorithm \`${alg}\` is refused: HMAC lets anyone holding the shared secret mint tokens; use RS256, ES256 or EdDSA`,
    });
  } else if (!(allowedAlgorithms as readonly string[]).includes(alg)) {
    ctx.addIssue({ code: 'custom', message: `expected one of ${allowedAlgorithms.join(', ')}` });
  }
});

const audienceSchema = z.union(
  [
    z.string().min(1, { error: 'expected a non-empty audience' }),
    z.array(z.string().min(1, { error: 'expected a non-empty audience' })).min(1, { error: 'expected at least one audience' }),
  ],
  { error: 'expected an audience (a string or a non-empty list of strings)' },
);

const issuerUrlSchema = urlSchema(['https', 'http'], 'https://login.example.com/realms/corp');

const oidcIssuerSchema = z
  .strictObject({
    name: nameSchema,
    issuer: issuerUrlSchema,
    audience: audienceSchema,
    jwksUri: issuerUrlSchema.optional(),
    algorithms: z.array(algorithmSchema, { error: 'expected a list of algorithm names' }).min(1).optional(),
    groupsClaim: z.string().min(1).default('groups'),
    subjectClaim: z.string().min(1).default('sub'),
    subjectPrefix: z.string().optional(),
    groupsPrefix: z.string().default(''),
    // More than a few minutes of skew would keep expired tokens alive; the verifier caps it too.
    clockSkew: durationSchema.refine((ms) => ms <= 300_000, { error: 'expected at most 5m of clock skew' }).prefault('30s'),
    kind: z.enum(['auto', 'agent', 'human'], { error: 'expected one of auto, agent, human' }).default('auto'),
    caFile: pathSchema.optional(),
    allowInsecure: booleanSchema.default(false),
  })
  .superRefine((issuer, ctx) => {
    if (issuer.allowInsecure) return;
    for (const field of ['issuer', 'jwksUri'] as const) {
      const value = issuer[field];
      if (value !== undefined && value.startsWith('http:')) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: 'expected an https URL; plain http lets anyone on the path forge keys (set allowInsecure: true only for local tests)',
        });
      }
    }
  })
  // Subjects from different issuers must not collide: `alice` at one IdP is not `alice` at
  // another. The default prefix is the issuer's name, as kube-apiserver prefixes with the URL.
  .transform((issuer) => ({ ...issuer, subjectPrefix: issuer.subjectPrefix ?? `${issuer.name}:` }));

export type OidcIssuerConfig = z.output<typeof oidcIssuerSchema>;

const builtinSchema = z.strictObject({
  enabled: booleanSchema.default(true),
  audience: z.string({ error: 'expected an audience string' }).min(1).default('airlock'),
  maxTtl: durationSchema.prefault('24h'),
});

export const identitySchema = z.strictObject({
  builtin: builtinSchema.prefault({}),
  issuers: z
    .array(oidcIssuerSchema, { error: 'expected a list of issuers' })
    .default([])
    .superRefine((issuers, ctx) => {
      const seen = new Map<string, number>();
      issuers.forEach((issuer, index) => {
        const first = seen.get(issuer.name);
        if (first !== undefined) {
          ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `issuer names must be unique; issuers[${first}] has the same name` });
        } else {
          seen.set(issuer.name, index);
        }
      });
    }),
});

export type IdentityConfig = z.output<typeof identitySchema>;
