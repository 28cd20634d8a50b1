/**
 * PolicyRequest is the protocol-neutral description of one action, built by a protocol
 * adapter and read by policy as `request`. Fields that do not apply to a protocol are
 * absent — omit them rather than setting them to undefined or null (CEL: a rule tests them
 * with `has(request.name)`). Build it as a plain object. Documented, with the verb
 * vocabulary of each protocol, in docs/policy.md ("What a rule can see").
 */
export type Protocol = 'kubernetes' | 'postgres' | (string & {});

export interface PolicyRequest {
  protocol: Protocol;
  /** Connection (cluster or database target) name from config. */
  connection: string;
  /**
   * Normalised verb. Kubernetes: the authorization verb (`get|list|watch|create|update|patch|
   * delete|deletecollection|impersonate|…`). PostgreSQL: the statement class (`select|insert|
   * update|delete|merge|truncate|copy|ddl|dcl|transaction|session|call|do|other`).
   */
  verb: string;
  /** Kubernetes resource (`pods`), or the SQL relation first written to (else read from). */
  resource?: string;
  /** Kubernetes namespace. */
  namespace?: string;
  /** PostgreSQL database. */
  database?: string;
  /** Object name (Kubernetes) or target name. */
  name?: string;
  // Kubernetes-specific
  /** API group; `""` for the core group. */
  apiGroup?: string;
  apiVersion?: string;
  /** `exec`, `attach`, `portforward`, `log`, `status`, `scale`, `proxy`, … */
  subresource?: string;
  path?: string;
  method?: string;
  /** exec/attach command argv. */
  command?: string[];
  container?: string;
  tty?: boolean;
  labelSelector?: string;
  fieldSelector?: string;
  dryRun?: boolean;
  // SQL-specific
  /** Statement text, parameters not inlined. */
  statement?: string;
  /** Relations the statement touches. */
  tables?: string[];
  /** Anything else a protocol adapter wants policy to see. */
  [extra: string]: unknown;
}
