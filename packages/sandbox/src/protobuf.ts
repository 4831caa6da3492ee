import { ApiError, badRequest, failure } from './status.js';

/**
 * Request bodies in the Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`), which
 * kubectl's typed commands send (`kubectl create namespace|configmap|secret|deployment|service|
 * serviceaccount`, `kubectl expose`). Decoded for those kinds from the field numbers of k8s.io/api's generated.proto;
 * other kinds are refused with 415. Fields not listed are skipped.
 */

type Scalar = 'string' | 'int' | 'bool' | 'bytes' | 'time' | 'intOrString' | 'quantity';
interface Field {
  name: string;
  kind: Scalar | Message;
  repeated?: boolean;
  /** map<string, value> */
  map?: Scalar;
  /** a pointer in Go: a zero value is still a value */
  keepZero?: boolean;
}
type Message = Record<number, Field>;

const f = (name: string, kind: Scalar | Message, more: Partial<Field> = {}): Field => ({ name, kind, ...more });
const strMap = (name: string): Field => f(name, 'string', { map: 'string' });

const OWNER_REF: Message = {
  1: f('kind', 'string'),
  3: f('name', 'string'),
  4: f('uid', 'string'),
  5: f('apiVersion', 'string'),
  6: f('controller', 'bool'),
  7: f('blockOwnerDeletion', 'bool'),
};
const OBJECT_META: Message = {
  1: f('name', 'string'),
  2: f('generateName', 'string'),
  3: f('namespace', 'string'),
  5: f('uid', 'string'),
  6: f('resourceVersion', 'string'),
  11: strMap('labels'),
  12: strMap('annotations'),
  13: f('ownerReferences', OWNER_REF, { repeated: true }),
  14: f('finalizers', 'string', { repeated: true }),
};
const SELECTOR_REQ: Message = {
  1: f('key', 'string'),
  2: f('operator', 'string'),
  3: f('values', 'string', { repeated: true }),
};
const LABEL_SELECTOR: Message = {
  1: strMap('matchLabels'),
  2: f('matchExpressions', SELECTOR_REQ, { repeated: true }),
};
const CONTAINER: Message = {
  1: f('name', 'string'),
  2: f('image', 'string'),
  3: f('command', 'string', { repeated: true }),
  4: f('args', 'string', { repeated: true }),
  5: f('workingDir', 'string'),
  6: f(
    'ports',
    {
      1: f('name', 'string'),
      2: f('hostPort', 'int'),
      3: f('containerPort', 'int'),
      4: f('protocol', 'string'),
      5: f('hostIP', 'string'),
    },
    { repeated: true },
  ),
  7: f('env', { 1: f('name', 'string'), 2: f('value', 'string') }, { repeated: true }),
  8: f(
    'resources',
    { 1: f('limits', 'quantity', { map: 'quantity' }), 2: f('requests', 'quantity', { map: 'quantity' }) },
    { keepZero: true },
  ),
  13: f('terminationMessagePath', 'string'),
  14: f('imagePullPolicy', 'string'),
  20: f('terminationMessagePolicy', 'string'),
};
const POD_SPEC: Message = {
  2: f('containers', CONTAINER, { repeated: true }),
  20: f('initContainers', CONTAINER, { repeated: true }),
  3: f('restartPolicy', 'string'),
  6: f('dnsPolicy', 'string'),
  7: strMap('nodeSelector'),
  8: f('serviceAccountName', 'string'),
  19: f('schedulerName', 'string'),
};
const POD_TEMPLATE: Message = { 1: f('metadata', OBJECT_META, { keepZero: true }), 2: f('spec', POD_SPEC) };
const ROLLING: Message = { 1: f('maxUnavailable', 'intOrString'), 2: f('maxSurge', 'intOrString') };

const RESOURCE_ATTRIBUTES: Message = {
  1: f('namespace', 'string'),
  2: f('verb', 'string'),
  3: f('group', 'string'),
  4: f('version', 'string'),
  5: f('resource', 'string'),
  6: f('subresource', 'string'),
  7: f('name', 'string'),
};
const NON_RESOURCE_ATTRIBUTES: Message = { 1: f('path', 'string'), 2: f('verb', 'string') };

const SCALE_TARGET_REF: Message = { 1: f('kind', 'string'), 2: f('name', 'string'), 3: f('apiVersion', 'string') };
const METRIC_TARGET: Message = {
  1: f('type', 'string'),
  2: f('value', 'quantity'),
  3: f('averageValue', 'quantity'),
  4: f('averageUtilization', 'int', { keepZero: true }),
};

/** autoscaling/v2 and v1 HorizontalPodAutoscalers (`kubectl autoscale`): the same message name, keyed by version. */
const HPA_V2: Message = {
  1: f('metadata', OBJECT_META),
  2: f('spec', {
    1: f('scaleTargetRef', SCALE_TARGET_REF),
    2: f('minReplicas', 'int', { keepZero: true }),
    3: f('maxReplicas', 'int', { keepZero: true }),
    4: f(
      'metrics',
      { 1: f('type', 'string'), 4: f('resource', { 1: f('name', 'string'), 2: f('target', METRIC_TARGET) }) },
      { repeated: true },
    ),
  }),
};
const HPA_V1: Message = {
  1: f('metadata', OBJECT_META),
  2: f('spec', {
    1: f('scaleTargetRef', SCALE_TARGET_REF),
    2: f('minReplicas', 'int', { keepZero: true }),
    3: f('maxReplicas', 'int', { keepZero: true }),
    4: f('targetCPUUtilizationPercentage', 'int', { keepZero: true }),
  }),
};

const KINDS: Record<string, Message> = {
  SelfSubjectAccessReview: {
    1: f('metadata', OBJECT_META),
    2: f('spec', {
      1: f('resourceAttributes', RESOURCE_ATTRIBUTES),
      2: f('nonResourceAttributes', NON_RESOURCE_ATTRIBUTES),
    }),
  },
  SubjectAccessReview: {
    1: f('metadata', OBJECT_META),
    2: f('spec', {
      1: f('resourceAttributes', RESOURCE_ATTRIBUTES),
      2: f('nonResourceAttributes', NON_RESOURCE_ATTRIBUTES),
      3: f('user', 'string'),
      4: f('groups', 'string', { repeated: true }),
      6: f('uid', 'string'),
    }),
  },
  ServiceAccount: { 1: f('metadata', OBJECT_META) },
  Namespace: { 1: f('metadata', OBJECT_META), 2: f('spec', { 1: f('finalizers', 'string', { repeated: true }) }) },
  ConfigMap: {
    1: f('metadata', OBJECT_META),
    2: strMap('data'),
    3: f('binaryData', 'bytes', { map: 'bytes' }),
    4: f('immutable', 'bool'),
  },
  Secret: {
    1: f('metadata', OBJECT_META),
    2: f('data', 'bytes', { map: 'bytes' }),
    3: f('type', 'string'),
    4: strMap('stringData'),
    5: f('immutable', 'bool'),
  },
  Service: {
    1: f('metadata', OBJECT_META),
    2: f('spec', {
      1: f(
        'ports',
        {
          1: f('name', 'string'),
          2: f('protocol', 'string'),
          3: f('port', 'int'),
          4: f('targetPort', 'intOrString'),
          5: f('nodePort', 'int'),
          6: f('appProtocol', 'string'),
        },
        { repeated: true },
      ),
      2: strMap('selector'),
      3: f('clusterIP', 'string'),
      4: f('type', 'string'),
      7: f('sessionAffinity', 'string'),
      10: f('externalName', 'string'),
    }),
  },
  Deployment: {
    1: f('metadata', OBJECT_META),
    2: f('spec', {
      1: f('replicas', 'int', { keepZero: true }),
      2: f('selector', LABEL_SELECTOR),
      3: f('template', POD_TEMPLATE),
      4: f('strategy', { 1: f('type', 'string'), 2: f('rollingUpdate', ROLLING) }),
      5: f('minReadySeconds', 'int'),
      6: f('revisionHistoryLimit', 'int', { keepZero: true }),
      7: f('paused', 'bool'),
      9: f('progressDeadlineSeconds', 'int', { keepZero: true }),
    }),
  },
};

/** A protobuf reader over one message. */
class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (this.pos >= this.buf.length || shift > 63n) throw badRequest('protobuf: truncated varint');
      const byte = this.buf[this.pos++] ?? 0;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
  }
  bytes(): Buffer {
    const length = Number(this.varint());
    if (this.pos + length > this.buf.length) throw badRequest('protobuf: truncated field');
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
  skipField(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 2) this.bytes();
    else if (wire === 1 || wire === 5) this.pos += wire === 1 ? 8 : 4;
    else throw badRequest(`protobuf: unsupported wire type ${wire}`);
  }
}

function fields(buf: Buffer, visit: (no: number, wire: number, r: Reader) => void): void {
  const r = new Reader(buf);
  while (!r.done) {
    const key = Number(r.varint());
    visit(key >> 3, key & 7, r);
  }
}

function timeOf(buf: Buffer): string | undefined {
  let seconds = 0;
  fields(buf, (no, wire, r) => (no === 1 ? (seconds = Number(r.varint())) : r.skipField(wire)));
  return seconds ? new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined;
}

function intOrString(buf: Buffer): number | string {
  const v: { type: number; int: number; str: string } = { type: 0, int: 0, str: '' };
  fields(buf, (no, wire, r) => {
    if (no === 1) v.type = Number(r.varint());
    else if (no === 2) v.int = Number(BigInt.asIntN(32, r.varint()));
    else if (no === 3) v.str = r.bytes().toString('utf8');
    else r.skipField(wire);
  });
  return v.type === 1 ? v.str : v.int;
}

function scalar(kind: Scalar, wire: number, r: Reader): unknown {
  if (kind === 'int') return Number(BigInt.asIntN(64, r.varint()));
  if (kind === 'bool') return r.varint() !== 0n;
  if (wire !== 2) throw badRequest('protobuf: unexpected wire type');
  const buf = r.bytes();
  switch (kind) {
    case 'string':
      return buf.toString('utf8');
    case 'bytes':
      return buf.toString('base64');
    case 'time':
      return timeOf(buf);
    case 'intOrString':
      return intOrString(buf);
    case 'quantity':
      return fieldsOfQuantity(buf);
  }
}

function fieldsOfQuantity(buf: Buffer): string {
  let text = '';
  fields(buf, (no, wire, r) => (no === 1 ? (text = r.bytes().toString('utf8')) : r.skipField(wire)));
  return text;
}

function mapEntry(field: Field, buf: Buffer): [string, unknown] {
  let key = '';
  let value: unknown = field.map === 'bytes' ? '' : '';
  fields(buf, (no, wire, r) => {
    if (no === 1) key = r.bytes().toString('utf8');
    else if (no === 2) value = scalar(field.map ?? 'string', wire, r);
    else r.skipField(wire);
  });
  return [key, value];
}

function isEmpty(value: unknown): boolean {
  return (
    value === undefined ||
    value === '' ||
    value === 0 ||
    value === false ||
    (typeof value === 'object' && value !== null && Object.keys(value).length === 0)
  );
}

function message(schema: Message, buf: Buffer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  fields(buf, (no, wire, r) => {
    const field = schema[no];
    if (!field) return r.skipField(wire);
    if (field.map) {
      const [k, v] = mapEntry(field, r.bytes());
      out[field.name] = { ...(out[field.name] as Record<string, unknown> | undefined), [k]: v };
      return;
    }
    const value = typeof field.kind === 'string' ? scalar(field.kind, wire, r) : message(field.kind, r.bytes());
    if (field.repeated) out[field.name] = [...((out[field.name] as unknown[] | undefined) ?? []), value];
    else if (field.keepZero || !isEmpty(value)) out[field.name] = value;
  });
  return out;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decodes a protobuf request body (`k8s\0` + runtime.Unknown) into the JSON object it stands for. */
export function decodeProtobuf(raw: Buffer): Record<string, unknown> {
  if (!raw.subarray(0, 4).equals(MAGIC))
    throw badRequest('protobuf: the body does not start with the Kubernetes protobuf prefix');
  const envelope: { apiVersion: string; kind: string; raw: Buffer } = {
    apiVersion: '',
    kind: '',
    raw: Buffer.alloc(0),
  };
  fields(raw.subarray(4), (no, wire, r) => {
    if (no === 1)
      fields(r.bytes(), (n, w, t) =>
        n === 1
          ? (envelope.apiVersion = t.bytes().toString('utf8'))
          : n === 2
            ? (envelope.kind = t.bytes().toString('utf8'))
            : t.skipField(w),
      );
    else if (no === 2) envelope.raw = r.bytes();
    else r.skipField(wire);
  });
  const schema =
    envelope.kind === 'HorizontalPodAutoscaler'
      ? envelope.apiVersion === 'autoscaling/v1'
        ? HPA_V1
        : HPA_V2
      : KINDS[envelope.kind];
  if (!schema) {
    throw new ApiError(
      failure(
        415,
        'UnsupportedMediaType',
        `the sandbox decodes protobuf only for ${[...Object.keys(KINDS), 'HorizontalPodAutoscaler'].join(', ')}; send ` +
          `${envelope.kind || 'this object'} as application/json`,
      ),
    );
  }
  return { apiVersion: envelope.apiVersion, kind: envelope.kind, ...message(schema, envelope.raw) };
}
