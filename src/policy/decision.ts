/** The three effects a rule or a decision can have. */
export type Effect = 'allow' | 'deny' | 'review';

/** Decision is policy's verdict: a value, never an exception. */
export interface Decision {
  effect: Effect;
  /** Names of the rules that matched (and produced `effect`), in policy order. */
  rules: string[];
  /** Human message: the winning rule's message, or the default's explanation. */
  message: string;
  /** True when no rule matched and the policy default decided. */
  defaulted: boolean;
  /**
   * Rules whose evaluation failed, among those consulted (lower-precedence rules are not
   * evaluated once a higher effect matched); failed deny/review rules count as matched (fail
   * closed), failed allow rules do not. `error` gives the cel-js code, the column, and a message
   * only when it names types or keys, not values.
   */
  errors?: { rule: string; error: string }[];
  /**
   * Review parameters from the winning review rule(s): approvers united, the largest approval
   * count, and a window grant only when every matching rule grants one (the shortest).
   */
  review?: { approvers: string[]; approvals: number; rules: string[]; window?: { ms: number; text: string } };
  /**
   * Masking chosen by the matching allow rules; absent when none says anything, and then the
   * defaults apply (Secret values masked, streams masked with the gateway's detectors).
   */
  mask?: MaskPlan;
}

/** MaskPlan says how the responses to an allowed request are masked, beyond the defaults. */
export interface MaskPlan {
  /** `clear`: a rule with `unmask: [secrets]` lets the caller see Secret values (break-glass). */
  secrets: 'mask' | 'clear';
  /**
   * Stream detectors (`pii`, …) the rules' `mask` lists add to the gateway's defaults for
   * exec/attach output, recorded stdin, container logs and captured port-forward bytes:
   * the sorted union over every matching allow rule. Absent when no rule adds any.
   */
  detectors?: string[];
}
