/**
 * PolicyRequest is the protocol-neutral description of one action, built by a protocol
 * adapter and read by policy as `request`. Fields that do not apply to a protocol are
 * absent (CEL: test them with `has(request.name)`). Documented in docs/policy.md.
 */
export type Protocol = 'kubernetes' | 'postgres' | (string & {});

export interface PolicyRequest {
  protocol: Protocol;
  /** Connection (cluster or database target) name from config. */
  connection: string;
  /** Normalised verb: Kubernetes `get|list|watch|create|update|patch|delete|deletecollection|…`; SQL `select|insert|update|delete|ddl|…`. */
  verb: string;
  /** Kubernetes resource (`pods`) or SQL table/relation. */
  resource?: string;
  /** Kubernetes namespace. */
  namespace?: string;
  /** PostgreSQL database. */
  database?: string;
  /** Object name (Kubernetes) or target name. */
  name?: string;
  // Kubernetes-specific
  apiGroup?: string;
  apiVersion?: string;
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
  statement?: string;
  tables?: string[];
  /** Anything else a protocol adapter wants policy to see. */
  [extra: string]: unknown;
}
