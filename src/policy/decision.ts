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
  /** Review parameters from the winning review rule(s): approvers united, the largest approval count. */
  review?: { approvers: string[]; approvals: number; rules: string[] };
  /** Masking plan selected by the decision (filled by later issues). */
  mask?: MaskPlan;
}

/** MaskPlan says which masking applies to a response; `clear` lists what may be shown unmasked. */
export interface MaskPlan {
  secrets: 'mask' | 'clear';
  detectors?: string[];
}
