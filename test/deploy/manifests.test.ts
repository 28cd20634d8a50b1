/**
 * The deployment files: the container image's Dockerfile, Docker Compose, the Helm chart and
 * the plain Kubernetes manifests. Nothing here needs a cluster, Docker or helm: the plain
 * manifests are validated against the Kubernetes OpenAPI schemas (kubernetes-models), the
 * configuration files inside them go through airlock's own configuration loader, and the
 * chart's templates get the structural checks that can be made without rendering them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { parseConfig } from '../../src/config/index.js';
import { AirlockError } from '../../src/errors.js';

/** The repository root: the nearest ancestor with package.json and deploy/ (works from test/ and dist/test/). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'deploy'))) return dir;
    const parent = dirname(dir);
    assert.notEqual(parent, dir, 'repository root not found');
    dir = parent;
  }
}

const root = repoRoot();
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

type Obj = Record<string, unknown>;
interface KubeObject extends Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

/** A validator per apiVersion/kind: kubernetes-models' models, generated from the Kubernetes OpenAPI schemas. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/DaemonSet': DaemonSet,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

function validate(object: KubeObject): void {
  const Model = models[`${object.apiVersion}/${object.kind}`];
  assert.ok(Model, `no schema validator for ${object.apiVersion} ${object.kind}; add it to the test`);
  new Model(object as never).validate();
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...yamlFiles(path));
    else if (/\.ya?ml$/.test(name)) out.push(path);
  }
  return out;
}

/** Every object of every YAML file under deploy/kubernetes/, with the file it came from. */
function plainManifests(): { file: string; object: KubeObject }[] {
  const out: { file: string; object: KubeObject }[] = [];
  for (const path of yamlFiles(join(root, 'deploy', 'kubernetes'))) {
    const file = relative(root, path);
    for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
      assert.deepEqual(doc.errors.map((e) => e.message), [], `${file} is not valid YAML`);
      const object = doc.toJS() as KubeObject | null;
      if (object !== null) out.push({ file, object });
    }
  }
  return out;
}

const manifests = plainManifests();

function the(kind: string, name?: string): KubeObject {
  const found = manifests.filter((m) => m.object.kind === kind && (name === undefined || m.object.metadata.name === name));
  assert.equal(found.length, 1, `expected exactly one ${kind}${name ? ` ${name}` : ''} under deploy/kubernetes/, found ${found.length}`);
  return found[0]!.object;
}

/** The env a pod gives airlock, with synthetic values. */
const podEnv = { POD_NAME: 'airlock-6c9f8d7b5-x2x4q', AIRLOCK_LEDGER_URL: 'postgres://airlock:synthetic-pw@ledger-db:5432/airlock' };

interface Container extends Obj {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: Obj }[];
  ports?: { name?: string; containerPort: number }[];
  securityContext?: Obj;
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}
interface PodSpec extends Obj {
  serviceAccountName?: string;
  securityContext?: Obj;
  containers: Container[];
  initContainers?: Container[];
  volumes?: ({ name: string } & Obj)[];
}
const podSpecOf = (workload: KubeObject): PodSpec =>
  ((workload.spec as Obj).template as Obj).spec as PodSpec;
/** airlock.yaml of the configuration ConfigMap. */
function configText(): string {
  const text = (the('ConfigMap', 'airlock-config').data as Record<string, string> | undefined)?.['airlock.yaml'];
  assert.ok(text, 'the ConfigMap airlock-config holds airlock.yaml');
  return text;
}
const workloads = () => manifests.map((m) => m.object).filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');

// ---------------------------------------------------------------------------------------------
// Plain manifests

test('every object under deploy/kubernetes/ is valid against the Kubernetes OpenAPI schema', () => {
  assert.ok(manifests.length > 0, 'no manifests found');
  for (const { file, object } of manifests) {
    assert.doesNotThrow(() => validate(object), (err: Error) => `${file}: ${object.kind} ${object.metadata?.name}: ${err.message}`);
    assert.ok(object.metadata?.name, `${file}: ${object.kind} has no name`);
  }
  const kinds = new Set(manifests.map((m) => m.object.kind));
  for (const kind of ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Service', 'PodDisruptionBudget', 'NetworkPolicy']) {
    assert.ok(kinds.has(kind), `deploy/kubernetes/ has no ${kind}`);
  }
});

test('the schema validator refuses a malformed object (so the check above can fail)', () => {
  const broken = structuredClone(the('Deployment'));
  podSpecOf(broken).containers[0]!.ports![0]!.containerPort = 'https' as never;
  assert.throws(() => validate(broken), /containerPort/);
  const noSelector = structuredClone(the('Deployment'));
  delete (noSelector.spec as Obj).selector;
  assert.throws(() => validate(noSelector), /selector/);
});

test("airlock's ClusterRole grants exactly impersonate on users, groups, serviceaccounts and create on tokenreviews", () => {
  const role = the('ClusterRole');
  const rules = role.rules as { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }[];
  const grants = new Set<string>();
  for (const rule of rules) {
    assert.equal(rule.nonResourceURLs, undefined, 'no non-resource URLs');
    for (const list of [rule.apiGroups ?? [], rule.resources ?? [], rule.verbs]) {
      assert.ok(!list.some((v) => v.includes('*')), `wildcard in ${JSON.stringify(rule)}`);
    }
    for (const group of rule.apiGroups ?? []) for (const resource of rule.resources ?? []) for (const verb of rule.verbs) grants.add(`${group}/${resource}:${verb}`);
  }
  assert.deepEqual([...grants].sort(), [
    '/groups:impersonate',
    '/serviceaccounts:impersonate',
    '/users:impersonate',
    'authentication.k8s.io/tokenreviews:create',
  ]);
  const binding = the('ClusterRoleBinding');
  assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
  const account = the('ServiceAccount');
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: account.metadata.name, namespace: account.metadata.namespace }]);
  for (const workload of workloads()) assert.equal(podSpecOf(workload).serviceAccountName, account.metadata.name);
});

test('airlock runs as non-root with a read-only root filesystem and no privilege escalation', () => {
  assert.ok(workloads().length > 0);
  for (const workload of workloads()) {
    const pod = podSpecOf(workload);
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.ok(typeof pod.securityContext?.runAsUser === 'number' && pod.securityContext.runAsUser > 0, 'runAsUser is a non-root uid');
    for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
      const sc = container.securityContext ?? {};
      assert.equal(sc.readOnlyRootFilesystem, true, `${container.name}: readOnlyRootFilesystem`);
      assert.equal(sc.allowPrivilegeEscalation, false, `${container.name}: allowPrivilegeEscalation`);
      assert.deepEqual((sc.capabilities as Obj | undefined)?.drop, ['ALL'], `${container.name}: drops every capability`);
      assert.notEqual(sc.runAsUser, 0, `${container.name}: not root`);
    }
    // Everything airlock writes has a volume: the data directory and /tmp.
    const mounts = pod.containers[0]!.volumeMounts?.map((m) => m.mountPath) ?? [];
    assert.ok(mounts.includes('/var/lib/airlock') && mounts.includes('/tmp'), `writable mounts: ${mounts.join(', ')}`);
  }
});

test('probes check /healthz and /readyz on the admin port that the configuration listens on', () => {
  const config = parseConfig(configText(), { env: podEnv, baseDir: '/etc/airlock' });
  const adminPort = Number(config.admin.listen.split(':').pop());
  const gatewayPort = Number(config.listen.split(':').pop());
  for (const workload of workloads()) {
    const airlock = podSpecOf(workload).containers.find((c) => c.name === 'airlock');
    assert.ok(airlock, 'a container named airlock');
    const portOf = (port: string | number | undefined): number | undefined =>
      typeof port === 'number' ? port : airlock.ports?.find((p) => p.name === port)?.containerPort;
    assert.equal(airlock.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(portOf(airlock.livenessProbe?.httpGet?.port), adminPort);
    assert.equal(airlock.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(portOf(airlock.readinessProbe?.httpGet?.port), adminPort);
    assert.equal(portOf('gateway'), gatewayPort);
  }
  const service = the('Service');
  const servicePorts = (service.spec as { ports: { targetPort: string }[] }).ports.map((p) => p.targetPort).sort();
  assert.deepEqual(servicePorts, ['admin', 'gateway']);
});

test('each pod writes its own ledger chain, named by POD_NAME from the downward API', () => {
  const cm = the('ConfigMap', 'airlock-config');
  const text = configText();
  assert.equal((parseYaml(text) as { ledger: { chain: string } }).ledger.chain, '${POD_NAME}');
  const config = parseConfig(text, { env: podEnv, baseDir: '/etc/airlock' });
  assert.equal(config.ledger.chain, podEnv.POD_NAME);
  assert.equal(config.ledger.store, 'postgres');
  assert.equal(config.ledger.postgres?.url, podEnv.AIRLOCK_LEDGER_URL);
  assert.equal(config.data, '/var/lib/airlock');
  for (const workload of workloads()) {
    const airlock = podSpecOf(workload).containers.find((c) => c.name === 'airlock')!;
    const env = new Map((airlock.env ?? []).map((e) => [e.name, e]));
    assert.deepEqual(env.get('POD_NAME')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
    const url = env.get('AIRLOCK_LEDGER_URL');
    assert.equal(url?.value, undefined, 'the ledger URL (with its password) comes from a Secret, not the manifest');
    assert.ok((url?.valueFrom as Obj | undefined)?.secretKeyRef, 'AIRLOCK_LEDGER_URL from a secretKeyRef');
    // The ConfigMap the pod mounts is the one checked here, at the path the image's CMD reads.
    const configVolume = podSpecOf(workload).volumes?.find((v) => (v.configMap as Obj | undefined)?.name === cm.metadata.name);
    assert.ok(configVolume, 'the pod mounts the configuration ConfigMap');
    const mount = airlock.volumeMounts?.find((m) => m.name === configVolume.name);
    assert.equal(mount?.mountPath, '/etc/airlock/airlock.yaml');
  }
});

test('the Service, PodDisruptionBudget and NetworkPolicy select the airlock pods', () => {
  for (const workload of workloads()) {
    const podLabels = ((workload.spec as Obj).template as { metadata: { labels: Record<string, string> } }).metadata.labels;
    const matches = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    assert.ok(matches((the('Service').spec as { selector: Record<string, string> }).selector), 'Service selector');
    assert.ok(matches(((the('PodDisruptionBudget').spec as Obj).selector as { matchLabels: Record<string, string> }).matchLabels), 'PDB selector');
    assert.ok(matches(((the('NetworkPolicy').spec as Obj).podSelector as { matchLabels: Record<string, string> }).matchLabels), 'NetworkPolicy selector');
  }
});

// ---------------------------------------------------------------------------------------------
// Helm chart. Rendering it needs helm; these are the checks that can be made without it.

const chartDir = join('deploy', 'helm', 'airlock');
const values = parseYaml(read(join(chartDir, 'values.yaml'))) as Obj;

test('Chart.yaml has the fields helm requires and values.yaml parses', () => {
  const chart = parseYaml(read(join(chartDir, 'Chart.yaml'))) as Obj;
  assert.equal(chart.apiVersion, 'v2');
  assert.equal(chart.name, 'airlock');
  assert.match(String(chart.version), /^\d+\.\d+\.\d+$/);
  assert.equal(chart.appVersion, (JSON.parse(read('package.json')) as { version: string }).version);
  assert.ok(['deployment', 'daemonset'].includes(String(values.mode)));
});

interface TemplateIssue { file: string; problem: string }

/**
 * checkTemplate: actions are closed, every block (`if`, `range`, `with`, `define`) has its
 * `end`, and every `.Values.a.b` exists in values.yaml — at the top level only, since inside
 * `with` and `range` the dot is no longer the root (`$.Values` is).
 */
function checkTemplate(file: string, text: string): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  const actions = [...text.matchAll(/\{\{(.*?)\}\}/gs)].map((m) => m[1]!.replace(/^-?\s*/, '').replace(/\s*-?$/, ''));
  const opens = (text.match(/\{\{/g) ?? []).length;
  const closes = (text.match(/\}\}/g) ?? []).length;
  if (opens !== closes || opens !== actions.length) issues.push({ file, problem: `unbalanced {{ }} (${opens} open, ${closes} close)` });
  const stack: string[] = [];
  for (const action of actions) {
    if (action.startsWith('/*')) continue;
    const word = action.split(/\s+/)[0]!;
    if (['if', 'range', 'with', 'define', 'block'].includes(word)) stack.push(word);
    else if (word === 'end' && stack.pop() === undefined) issues.push({ file, problem: 'an {{ end }} without a block' });
    const scoped = stack.some((w) => w === 'with' || w === 'range');
    for (const ref of action.matchAll(/(\$?)\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
      const path = ref[2]!.slice(1).split('.');
      if (scoped && ref[1] === '' && !action.startsWith('with') && !action.startsWith('range')) {
        issues.push({ file, problem: `.Values.${path.join('.')} inside with/range, where . is not the root (use $.Values)` });
      }
      let node: unknown = values;
      for (const key of path) {
        if (node === null || typeof node !== 'object' || !(key in (node as Obj))) {
          issues.push({ file, problem: `.Values.${path.join('.')} is not in values.yaml` });
          break;
        }
        node = (node as Obj)[key];
      }
    }
  }
  if (stack.length > 0) issues.push({ file, problem: `unclosed blocks: ${stack.join(', ')}` });
  return issues;
}

test('chart templates: closed actions, balanced blocks, and every .Values reference exists in values.yaml', () => {
  const dir = join(root, chartDir, 'templates');
  const files = readdirSync(dir).filter((f) => /\.(ya?ml|tpl|txt)$/.test(f));
  assert.ok(files.length >= 8, `templates: ${files.join(', ')}`);
  const issues = files.flatMap((f) => checkTemplate(f, readFileSync(join(dir, f), 'utf8')));
  assert.deepEqual(issues, []);
  // The checker itself catches what it claims to catch.
  assert.deepEqual(checkTemplate('t', '{{ if .Values.mode }}x{{ .Values.nope.deeper }}').map((i) => i.problem), [
    '.Values.nope.deeper is not in values.yaml',
    'unclosed blocks: if',
  ]);
  assert.equal(checkTemplate('t', '{{ with .Values.tls }}{{ .Values.mode }}{{ end }}').length, 1);
});

test('the chart renders the same kinds, names, ports and RBAC as the plain manifests', () => {
  const dir = join(root, chartDir, 'templates');
  const templates = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
  for (const kind of new Set(manifests.map((m) => m.object.kind))) {
    if (kind === 'Namespace') continue; // helm install --create-namespace
    assert.match(templates, new RegExp(`^kind: ${kind}$|"${kind}"`, 'm'), `the chart has no ${kind}`);
  }
  const ports = values.ports as { gateway: number; admin: number };
  const airlock = podSpecOf(the('Deployment')).containers.find((c) => c.name === 'airlock')!;
  assert.deepEqual(airlock.ports?.map((p) => p.containerPort), [ports.gateway, ports.admin]);
  assert.equal((the('Deployment').spec as Obj).replicas, values.replicas);
  assert.equal(values.mode, 'deployment');
  // The template's unconditional rules are the plain ClusterRole's rules.
  const role = read(join(chartDir, 'templates', 'clusterrole.yaml'));
  assert.match(role, /resources: \["users", "groups", "serviceaccounts"\]\n\s+verbs: \["impersonate"\]/);
  assert.match(role, /resources: \["tokenreviews"\]\n\s+verbs: \["create"\]/);
  assert.doesNotMatch(role, /\*/);
  // The optional rules appear only behind their values.
  assert.match(role, /if \.Values\.rbac\.impersonateUids \}\}\n\s+- uids/);
  assert.match(role, /if \.Values\.rbac\.impersonateExtras \}\}\n(\s+- userextras\/airlock\.dev\/[a-z-]+\n){3}/);
  assert.deepEqual({ uids: (values.rbac as Obj).impersonateUids, extras: (values.rbac as Obj).impersonateExtras }, { uids: false, extras: false });
  // The chart's default configuration is the plain ConfigMap's, apart from what the chart fills in.
  const chartConfig = structuredClone(values.config) as Obj;
  const plain = parseYaml(configText()) as Obj;
  for (const key of ['data', 'listen', 'tls']) delete plain[key];
  delete (plain.admin as Obj).listen;
  delete (chartConfig.admin as Obj | undefined)?.listen;
  if (Object.keys(plain.admin as Obj).length === 0) delete plain.admin;
  assert.deepEqual(chartConfig, plain);
});

// ---------------------------------------------------------------------------------------------
// Dockerfile and Docker Compose

interface Instruction { stage: number; op: string; args: string }

/** The Dockerfile's instructions (continuation lines joined), numbered by stage. */
function dockerfile(): Instruction[] {
  const text = read('Dockerfile').replace(/\\\n/g, ' ');
  const out: Instruction[] = [];
  let stage = -1;
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!m || line.trimStart().startsWith('#')) continue;
    if (m[1] === 'FROM') stage++;
    out.push({ stage, op: m[1]!, args: m[2]!.trim() });
  }
  return out;
}

test('the Dockerfile builds with `npm run build`, runs production dependencies only, as a non-root user', () => {
  const steps = dockerfile();
  const froms = steps.filter((s) => s.op === 'FROM');
  assert.ok(froms.length >= 2, 'multi-stage');
  const last = froms.length - 1;
  const arg = steps.find((s) => s.op === 'ARG' && s.stage === -1 && s.args.startsWith('NODE_IMAGE='));
  const runtimeImage = froms[last]!.args.replace('${NODE_IMAGE}', arg?.args.split('=')[1] ?? '').split(/\s+/)[0]!;
  assert.match(runtimeImage, /^node:20-bookworm-slim$/);

  // The build stage runs the very script that `npm test` runs before the tests.
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.test!, /npm run build/);
  assert.ok(steps.some((s) => s.op === 'RUN' && s.stage < last && /(^|&&\s*)npm run build(\s|$)/.test(s.args)), 'RUN npm run build in a build stage');
  assert.ok(steps.some((s) => s.op === 'RUN' && /npm ci --omit=dev/.test(s.args)), 'production dependencies with npm ci --omit=dev');
  assert.ok(!steps.some((s) => s.stage === last && s.op === 'RUN' && /npm (ci|install)/.test(s.args)), 'no npm install in the runtime stage');

  const user = steps.filter((s) => s.op === 'USER' && s.stage === last).pop();
  assert.ok(user, 'USER in the runtime stage');
  assert.doesNotMatch(user.args, /^(0|root)(:|$)/);
  assert.match(user.args, /^10001(:10001)?$/);

  const health = steps.find((s) => s.op === 'HEALTHCHECK' && s.stage === last);
  assert.ok(health, 'HEALTHCHECK');
  assert.match(health.args, /CMD \["node",/);
  assert.match(health.args, /\/readyz/);
  assert.doesNotMatch(health.args, /curl|wget/);

  assert.deepEqual(JSON.parse(steps.find((s) => s.op === 'ENTRYPOINT')!.args), ['node', '/app/bin/airlock.js']);
  assert.deepEqual(JSON.parse(steps.filter((s) => s.op === 'CMD' && s.stage === last).pop()!.args), ['start', '--config', '/etc/airlock/airlock.yaml']);
  assert.ok(steps.some((s) => s.op === 'VOLUME' && s.args.includes('/var/lib/airlock')));
});

test('.dockerignore keeps local builds out and everything the Dockerfile copies in', () => {
  const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  for (const path of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(path), `.dockerignore lists ${path}`);
  const isIgnored = (path: string) => ignored.some((p) => path === p || path.startsWith(`${p}/`));
  const copies = dockerfile().filter((s) => s.op === 'COPY' && !s.args.startsWith('--from'));
  assert.ok(copies.length > 0);
  for (const copy of copies) {
    const sources = copy.args.split(/\s+/).slice(0, -1);
    for (const source of sources) {
      assert.ok(!isIgnored(source), `${source} is copied but .dockerignore excludes it`);
      assert.ok(existsSync(join(root, source)), `${source} is copied but does not exist`);
    }
  }
});

test("the image's default configuration keeps its state in the data volume and its admin port where HEALTHCHECK looks", () => {
  const config = parseConfig(read('deploy/docker/airlock.yaml'), { env: {}, baseDir: '/etc/airlock' });
  assert.equal(config.data, '/var/lib/airlock');
  const health = dockerfile().find((s) => s.op === 'HEALTHCHECK')!;
  const port = /127\.0\.0\.1:(\d+)\/readyz/.exec(health.args)?.[1];
  assert.equal(config.admin.listen, `0.0.0.0:${port}`);
});

test('Docker Compose: PostgreSQL 16 ledger, healthchecks, airlock after a healthy database, password from the environment', () => {
  const compose = parseYaml(read('deploy/compose/docker-compose.yml')) as { services: Record<string, Obj> };
  const postgres = compose.services.postgres!;
  const airlock = compose.services.airlock!;
  assert.equal(postgres.image, 'postgres:16');
  assert.ok(postgres.healthcheck && airlock.healthcheck, 'both services have a healthcheck');
  assert.deepEqual(airlock.depends_on, { postgres: { condition: 'service_healthy' } });
  assert.equal(airlock.read_only, true);
  assert.ok((airlock.volumes as string[]).includes('./airlock.yaml:/etc/airlock/airlock.yaml:ro'));
  assert.match(String((postgres.environment as Obj).POSTGRES_PASSWORD), /^\$\{POSTGRES_PASSWORD:\?/);
  assert.match(String((airlock.environment as Obj).AIRLOCK_POSTGRES_PASSWORD), /^\$\{POSTGRES_PASSWORD:\?/);

  const text = read('deploy/compose/airlock.yaml');
  assert.match(text, /\$\{AIRLOCK_POSTGRES_PASSWORD\}/);
  const config = parseConfig(text, { env: { AIRLOCK_POSTGRES_PASSWORD: 'synthetic0pw' }, baseDir: '/etc/airlock' });
  assert.equal(config.ledger.store, 'postgres');
  assert.equal(config.ledger.postgres?.url, 'postgres://airlock:synthetic0pw@postgres:5432/airlock');
  assert.throws(() => parseConfig(text, { env: {}, baseDir: '/etc/airlock' }),
    (err: unknown) => err instanceof AirlockError && err.code === 'AIRLOCK_CONFIG_ENV_MISSING');
});
