import type { PrinterColumn, ResourceType } from './registry.js';
import { hpaReference, hpaTargets } from './hpa-types.js';
import { getPath, isRecord, type KObject } from './types.js';

/** Server-side printing: a meta.k8s.io/v1 Table, as `kubectl get` asks for it. */

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  /** Shown after the Age column (a Node's Version). */
  afterAge?: boolean;
  cell: (o: KObject) => unknown;
}

type Obj = Record<string, unknown>;

function age(timestamp: unknown, now: number): string {
  const then = typeof timestamp === 'string' ? Date.parse(timestamp) : NaN;
  if (Number.isNaN(then)) return '<unknown>';
  const s = Math.max(0, Math.floor((now - then) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  if (s < 3 * 3600) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function field(o: KObject, path: string): unknown {
  return getPath(o, path);
}

function num(o: KObject, path: string): number {
  const v = getPath(o, path);
  return typeof v === 'number' ? v : 0;
}

function text(value: unknown, fallback = ''): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : fallback;
}

function size(value: unknown): number {
  return isRecord(value) ? Object.keys(value).length : 0;
}

function podReady(o: KObject): string {
  const statuses = (field(o, 'status.containerStatuses') as Obj[] | undefined) ?? [];
  const containers = (field(o, 'spec.containers') as unknown[] | undefined) ?? [];
  return `${statuses.filter((s) => s.ready === true).length}/${containers.length}`;
}

function podStatus(o: KObject): unknown {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  const statuses = (field(o, 'status.containerStatuses') as Obj[] | undefined) ?? [];
  const waiting = statuses.map((s) => getPath(s, 'state.waiting.reason')).find((r) => typeof r === 'string');
  return waiting ?? field(o, 'status.phase') ?? 'Pending';
}

function restarts(o: KObject): number {
  const statuses = (field(o, 'status.containerStatuses') as Obj[] | undefined) ?? [];
  return statuses.reduce((n, s) => n + (typeof s.restartCount === 'number' ? s.restartCount : 0), 0);
}

function servicePorts(o: KObject): string {
  const ports = (field(o, 'spec.ports') as Obj[] | undefined) ?? [];
  return ports.map((p) => `${text(p.port)}/${text(p.protocol, 'TCP')}`).join(',') || '<none>';
}

const str = (name: string, cell: (o: KObject) => unknown): Column => ({ name, type: 'string', cell });
const wide = (name: string, cell: (o: KObject) => unknown): Column => ({ name, type: 'string', priority: 1, cell });

function containerField(o: KObject, path: string, key: string): string {
  const containers = (field(o, path) as Obj[] | undefined) ?? [];
  return containers.map((c) => text(c[key])).join(',');
}

function selectorText(o: KObject): string {
  const labels = (field(o, 'spec.selector.matchLabels') as Record<string, string> | undefined) ?? {};
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
const int = (name: string, cell: (o: KObject) => unknown): Column => ({ name, type: 'integer', cell });

function nodeStatus(o: KObject): string {
  const conditions = (field(o, 'status.conditions') as Obj[] | undefined) ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  const status = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
  return field(o, 'spec.unschedulable') === true ? `${status},SchedulingDisabled` : status;
}

function nodeRoles(o: KObject): string {
  const prefix = 'node-role.kubernetes.io/';
  const roles = Object.keys(o.metadata.labels ?? {})
    .filter((k) => k.startsWith(prefix) && k.length > prefix.length)
    .map((k) => k.slice(prefix.length));
  return roles.sort().join(',') || '<none>';
}

function nodeAddress(o: KObject, type: string): string {
  const addresses = (field(o, 'status.addresses') as Obj[] | undefined) ?? [];
  return text(addresses.find((a) => a.type === type)?.address, '<none>');
}

const BUILTIN: Record<string, Column[]> = {
  '/Pod': [
    str('Ready', podReady),
    str('Status', podStatus),
    int('Restarts', restarts),
    wide('IP', (o) => field(o, 'status.podIP') ?? '<none>'),
    wide('Node', (o) => field(o, 'spec.nodeName') ?? '<none>'),
  ],
  'apps/Deployment': [
    str('Ready', (o) => `${num(o, 'status.readyReplicas')}/${num(o, 'spec.replicas')}`),
    int('Up-to-date', (o) => num(o, 'status.updatedReplicas')),
    int('Available', (o) => num(o, 'status.availableReplicas')),
    wide('Containers', (o) => containerField(o, 'spec.template.spec.containers', 'name')),
    wide('Images', (o) => containerField(o, 'spec.template.spec.containers', 'image')),
    wide('Selector', selectorText),
  ],
  'apps/ReplicaSet': [
    int('Desired', (o) => num(o, 'spec.replicas')),
    int('Current', (o) => num(o, 'status.replicas')),
    int('Ready', (o) => num(o, 'status.readyReplicas')),
    wide('Containers', (o) => containerField(o, 'spec.template.spec.containers', 'name')),
    wide('Images', (o) => containerField(o, 'spec.template.spec.containers', 'image')),
    wide('Selector', selectorText),
  ],
  'autoscaling/HorizontalPodAutoscaler': [
    str('Reference', hpaReference),
    str('Targets', hpaTargets),
    { ...str('MinPods', (o) => field(o, 'spec.minReplicas') ?? '<unset>') },
    int('MaxPods', (o) => num(o, 'spec.maxReplicas')),
    int('Replicas', (o) => num(o, 'status.currentReplicas')),
  ],
  '/Namespace': [str('Status', (o) => field(o, 'status.phase') ?? 'Active')],
  '/Node': [
    str('Status', nodeStatus),
    str('Roles', nodeRoles),
    { ...str('Version', (o) => field(o, 'status.nodeInfo.kubeletVersion')), afterAge: true },
    wide('Internal-IP', (o) => nodeAddress(o, 'InternalIP')),
    wide('External-IP', (o) => nodeAddress(o, 'ExternalIP')),
    wide('OS-Image', (o) => field(o, 'status.nodeInfo.osImage')),
    wide('Kernel-Version', (o) => field(o, 'status.nodeInfo.kernelVersion')),
    wide('Container-Runtime', (o) => field(o, 'status.nodeInfo.containerRuntimeVersion')),
  ],
  '/ConfigMap': [int('Data', (o) => size(o.data) + size(o.binaryData))],
  '/Secret': [str('Type', (o) => o.type ?? 'Opaque'), int('Data', (o) => size(o.data))],
  '/Service': [
    str('Type', (o) => field(o, 'spec.type')),
    str('Cluster-IP', (o) => field(o, 'spec.clusterIP')),
    str('External-IP', () => '<none>'),
    str('Port(s)', servicePorts),
  ],
  '/Event': [
    str('Type', (o) => o.type),
    str('Reason', (o) => o.reason),
    str(
      'Object',
      (o) => `${text(field(o, 'involvedObject.kind')).toLowerCase()}/${text(field(o, 'involvedObject.name'))}`,
    ),
    str('Message', (o) => o.message),
  ],
};

/** A CRD's printer columns; a `date` column shows an age ("5m"), as the API server renders it. */
function customColumns(columns: PrinterColumn[], now: number): Column[] {
  return columns.map((c) => {
    const value = (o: KObject) => field(o, c.jsonPath.replace(/^\./, '')) ?? null;
    const cell = c.type === 'date' ? (o: KObject) => (value(o) === null ? null : age(value(o), now)) : value;
    return {
      name: c.name,
      type: c.type === 'date' ? 'string' : c.type,
      format: c.format,
      priority: c.priority ?? 0,
      cell,
    };
  });
}

function columnsOf(type: ResourceType, version: string, now: number): Column[] {
  const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };
  const ageColumn = str('Age', (o) => age(o.metadata.creationTimestamp, now));
  const custom = type.printerColumns.get(version) ?? [];
  const middle = type.builtin ? (BUILTIN[`${type.group}/${type.kind}`] ?? []) : customColumns(custom, now);
  const hasAge = custom.some((c) => c.name.toLowerCase() === 'age');
  const main = middle.filter((c) => !c.priority && !c.afterAge);
  const late = middle.filter((c) => !c.priority && c.afterAge);
  return [name, ...main, ...(hasAge ? [] : [ageColumn]), ...late, ...middle.filter((c) => c.priority)];
}

/** True when the Accept header asks for a meta.k8s.io/v1 Table. */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '')
    .split(',')
    .some((part) => part.includes('as=Table') && part.includes('g=meta.k8s.io') && /;\s*v=v1(;|$|\s)/.test(part));
}

function rowObject(o: KObject, include: string | null): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

/** A Table of the objects (one object, or a list's items), with the list's metadata. */
export function toTable(type: ResourceType, version: string, result: KObject, includeObject: string | null): KObject {
  const now = Date.now();
  const columns = columnsOf(type, version, now);
  const items = Array.isArray(result.items) ? (result.items as KObject[]) : [result];
  const metadata = Array.isArray(result.items) ? result.metadata : { resourceVersion: result.metadata.resourceVersion };
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: '',
      priority: c.priority ?? 0,
    })),
    rows: items.map((o) => ({ cells: columns.map((c) => c.cell(o) ?? ''), object: rowObject(o, includeObject) })),
  };
}
