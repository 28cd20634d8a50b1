/**
 * index.html of an evidence bundle: what the period holds and which file evidences which
 * SOC 2 criterion. Static HTML, no scripts, nothing fetched: it opens from a USB stick.
 */

export interface IndexInput {
  period: { since?: string; until?: string };
  createdAt: string;
  summary: Record<string, unknown>;
  files: string[];
}

/** The SOC 2 Trust Services Criteria this bundle speaks to, and where. */
export const SOC2_MAP: ReadonlyArray<{ id: string; title: string; evidence: string; files: string[] }> = [
  {
    id: 'CC6.1',
    title: 'Logical access: access to protected systems is restricted',
    evidence: 'every request authenticated (identity, issuer) and decided by the policy in force; no standing credentials handed to agents',
    files: ['sessions.csv', 'sessions.jsonl', 'policies/'],
  },
  {
    id: 'CC6.2',
    title: 'Users are registered and authorized before access; access ends when no longer authorized',
    evidence: 'who acted, through which identity provider, and when each identity last reached a system',
    files: ['sessions.csv', 'k8s-audit.jsonl'],
  },
  {
    id: 'CC6.3',
    title: 'Role-based access, least privilege, segregation of duties',
    evidence: 'just-in-time grants with requester, approver, reason, scope and expiry; requester ≠ approver enforced; grants used, expired or revoked',
    files: ['approvals.jsonl', 'policies/'],
  },
  {
    id: 'CC6.6',
    title: 'Boundary protection',
    evidence: 'the gateway as the single path: refused requests with the rule that refused them',
    files: ['sessions.csv', 'k8s-audit.jsonl'],
  },
  {
    id: 'CC7.2',
    title: 'Monitoring for anomalies and security events',
    evidence: 'SIEM-ready audit events, denials and break-glass uses, replayable terminal sessions; completeness and accuracy proven by the signed hash chain',
    files: ['k8s-audit.jsonl', 'replays/', 'ledger/'],
  },
  {
    id: 'CC8.1',
    title: 'Changes are authorized, approved and recorded',
    evidence: 'the population of production changes (writes) with their decision and, for risky ones, the approval of the exact change and its dry-run preview',
    files: ['sessions.csv', 'approvals.jsonl'],
  },
  {
    id: 'C1.1',
    title: 'Confidential information is identified and protected',
    evidence: 'the masking configuration in force; Secret values and credentials masked in every recorded body, stream and replay',
    files: ['masking/', 'policies/', 'replays/'],
  },
];

function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function renderIndex(input: IndexInput): string {
  const s = input.summary;
  const row = (label: string, value: unknown) => `<tr><th>${esc(label)}</th><td>${esc(value ?? 0)}</td></tr>`;
  const criteria = SOC2_MAP.map(
    (c) => `<tr><td><b>${esc(c.id)}</b></td><td>${esc(c.title)}</td><td>${esc(c.evidence)}</td><td>${c.files.map((f) => `<a href="${esc(f)}">${esc(f)}</a>`).join('<br>')}</td></tr>`,
  ).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>airlock evidence ${esc(input.period.since ?? 'start')} – ${esc(input.period.until ?? 'now')}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f4}code{background:#f4f4f4;padding:.1rem .3rem}</style>
</head><body>
<h1>airlock evidence bundle</h1>
<p>Period: <b>${esc(input.period.since ?? 'the start of the ledger')}</b> to <b>${esc(input.period.until ?? 'the time of export')}</b>. Exported ${esc(input.createdAt)}.</p>
<p>Check it offline before relying on it: <code>airlock evidence verify THIS_DIRECTORY --public-key KEY.pem</code>
(the key you obtained from the operator, e.g. <code>airlock audit public-key</code>). Verification checks the signed manifest,
every file's SHA-256, the ledger segment's hash chain against its signed checkpoints, and that every row of the session logs,
audit events and approvals corresponds to a ledger entry and the other way round.</p>
<h2>Summary</h2>
<table>
${row('requests', s.requests)}
${row('allowed', s.allowed)}
${row('denied', s.denied)}
${row('sent to review', s.review)}
${row('refused by airlock', s.refused)}
${row('approval requests', s.approvals)}
${row('terminal sessions (exec, attach)', s.terminalSessions)}
${row('API sessions', s.apiSessions)}
${row('imported from Kubernetes audit logs (not witnessed by airlock)', s.imported)}
${row('policies in force', s.policies)}
${row('masking configurations in force', s.maskingConfigurations)}
</table>
<h2>SOC 2 criteria and where the evidence is</h2>
<table><tr><th>criterion</th><th>what it asks</th><th>what this bundle shows</th><th>files</th></tr>
${criteria}
</table>
<h2>Files</h2>
<ul>${input.files.map((f) => `<li><a href="${esc(f)}">${esc(f)}</a></li>`).join('')}<li><a href="manifest.json">manifest.json</a> and <code>manifest.sig</code>: every file's SHA-256, signed</li></ul>
</body></html>
`;
}
