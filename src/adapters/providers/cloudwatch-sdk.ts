import {
  CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import type { CloudWatchSpec } from '../../pipeline/policy/schema.js';
import { limitsOf, timeoutMs, type QueryEnv } from './backend.js';
import type { HttpClient, HttpLimits } from './http.js';
import { MetricError, type MeasureContext } from './types.js';

/**
 * AWS's SDK for JavaScript v3 behind the provider seam: the SDK signs and (de)serializes GetMetricData, and every
 * request it makes goes through the operator's HttpClient (allowedHosts and the SSRF rules, the timeout, the body
 * cap, no redirects, one retry), never through an HTTP stack of its own. The SDK's own retries are off: HttpClient
 * retries inside the provider's timeout.
 */

/** One series of a GetMetricData answer, its pages joined: newest or oldest first as asked. */
export interface MetricSeries {
  id: string;
  label: string;
  points: { t: number; value: number }[];
  status: string;
  messages: string[];
}

/** A request as the SDK hands it to its HTTP handler (@smithy/protocol-http's HttpRequest, as far as used here). */
interface SdkRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

/** Most pages one query may read (100,800 datapoints a page): a runaway NextToken loop ends as an error. */
const MAX_PAGES = 20;

/** The SDK's HTTP handler, sending through HttpClient with the provider's limits. */
export function httpHandler(http: HttpClient, limits: HttpLimits, last: { status?: number; body?: string } = {}) {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => undefined,
    async handle(request: SdkRequest) {
      const res = await http.request(
        {
          url: urlOf(request),
          method: request.method === 'GET' ? 'GET' : 'POST',
          headers: sendable(request.headers),
          body: bodyText(request.body),
        },
        limits,
      );
      last.status = res.status;
      last.body = res.body;
      const headers = res.contentType ? { 'content-type': res.contentType } : {};
      return {
        response: { statusCode: res.status, reason: res.statusText, headers, body: Buffer.from(res.body, 'utf8') },
      };
    },
  };
}

/** undici sets these itself, and refuses some of them when given. */
const HOP_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding']);

function sendable(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_HEADERS.has(name.toLowerCase())));
}

function urlOf(request: SdkRequest): URL {
  const port = request.port ? `:${request.port}` : '';
  const url = new URL(`${request.protocol}//${request.hostname}${port}${request.path}`);
  for (const [name, value] of Object.entries(request.query ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(name, one ?? '');
  }
  return url;
}

function bodyText(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  // The bytes as they are: Buffer.from(body) would call the SDK's JSON buffer's valueOf, which it warns about.
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  throw new MetricError('the AWS SDK produced a streaming request body, which is not supported');
}

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** The Secret's access key pair, or undefined: the SDK's default chain (IRSA, the environment). */
async function secretCredentials(spec: CloudWatchSpec, ctx: MeasureContext): Promise<Credentials | undefined> {
  if (!spec.accessKeyIdSecretRef || !spec.secretAccessKeySecretRef) return undefined;
  const read = (ref: NonNullable<CloudWatchSpec['accessKeyIdSecretRef']>) =>
    ctx.secrets.read(ctx.policy.namespace, ref);
  const [accessKeyId, secretAccessKey, sessionToken] = await Promise.all([
    read(spec.accessKeyIdSecretRef),
    read(spec.secretAccessKeySecretRef),
    spec.sessionTokenSecretRef ? read(spec.sessionTokenSecretRef) : undefined,
  ]);
  return {
    accessKeyId: accessKeyId.trim(),
    secretAccessKey: secretAccessKey.trim(),
    ...(sessionToken ? { sessionToken: sessionToken.trim() } : {}),
  };
}

/**
 * The default chain's credentials provider, one per region and process: it caches what it resolved (an IRSA token
 * exchange is not repeated every tick) and refreshes it before it expires.
 */
const defaultChains = new Map<string, unknown>();

function defaultChain(region: string): unknown {
  let chain = defaultChains.get(region);
  if (!chain) {
    chain = new CloudWatchClient({ region }).config.credentials;
    defaultChains.set(region, chain);
  }
  return chain;
}

/** Every page of one GetMetricData request, its series joined by Id. Throws MetricErrors. */
export async function getMetricData(
  spec: CloudWatchSpec,
  asked: { queries: MetricDataQuery[]; startMs: number; endMs: number; newestFirst: boolean },
  ctx: MeasureContext,
  env: QueryEnv,
): Promise<MetricSeries[]> {
  const credentials = await secretCredentials(spec, ctx);
  const last: { status?: number; body?: string } = {};
  const client = new CloudWatchClient({
    region: spec.region,
    ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
    credentials: (credentials ?? defaultChain(spec.region)) as Credentials,
    requestHandler: httpHandler(env.http, limitsOf(timeoutMs(spec.timeout), ctx), last),
    maxAttempts: 1,
  });
  try {
    return await pages(client, asked);
  } catch (error) {
    throw sdkError(error, last);
  } finally {
    client.destroy();
  }
}

async function pages(
  client: CloudWatchClient,
  asked: { queries: MetricDataQuery[]; startMs: number; endMs: number; newestFirst: boolean },
): Promise<MetricSeries[]> {
  const series = new Map<string, MetricSeries>();
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await client.send(
      new GetMetricDataCommand({
        MetricDataQueries: asked.queries,
        StartTime: new Date(asked.startMs),
        EndTime: new Date(asked.endMs),
        ScanBy: asked.newestFirst ? 'TimestampDescending' : 'TimestampAscending',
        ...(token ? { NextToken: token } : {}),
      }),
    );
    for (const result of answer.MetricDataResults ?? []) joinPage(series, result);
    token = answer.NextToken;
    if (!token) return [...series.values()];
  }
  throw new MetricError(`GetMetricData answered more than ${MAX_PAGES} pages: narrow the queries or the lookback`);
}

function joinPage(series: Map<string, MetricSeries>, result: MetricDataResult): void {
  const id = result.Id ?? '';
  const known = series.get(id) ?? { id, label: result.Label ?? id, points: [], status: '', messages: [] };
  const times = result.Timestamps ?? [];
  (result.Values ?? []).forEach((value, i) => {
    const t = times[i]?.getTime();
    if (t !== undefined && Number.isFinite(value)) known.points.push({ t, value });
  });
  known.status = result.StatusCode ?? known.status;
  known.messages.push(...(result.Messages ?? []).map((m) => `${id}: ${m.Code ?? ''} ${m.Value ?? ''}`.trim()));
  series.set(id, known);
}

type SdkFailure = { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $fault?: string };

/** An SDK failure as a MetricError: the service's error code and message, or why no request was made. */
export function sdkError(error: unknown, last: { status?: number; body?: string } = {}): MetricError {
  if (error instanceof MetricError) return error;
  const e = error as SdkFailure;
  if (e.name === 'CredentialsProviderError')
    return new MetricError(`no AWS credentials: ${e.message ?? 'the default chain found none'}`);
  const status = e.$metadata?.httpStatusCode ?? last.status;
  // An answer the SDK could not read (an XML error page from a proxy or a stand-in): its code and message, if any.
  if (e.$fault === undefined && status !== undefined && last.body !== undefined)
    return new MetricError(`HTTP ${status}: ${errorText(last.body)}`);
  return new MetricError(`${codeOf(e)}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(error)}`);
}

const codeOf = (e: SdkFailure): string => (e.name && e.name !== 'Error' ? e.name : 'error');

/** `AccessDenied: User … is not authorized` out of a JSON or XML error body, else the body's start on one line. */
function errorText(body: string): string {
  const tag = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1];
  const code = tag('Code');
  if (code) return `${code}: ${tag('Message') ?? ''}`.trim();
  const line = body.replace(/\s+/g, ' ').trim();
  return line ? (line.length > 160 ? `${line.slice(0, 159)}…` : line) : 'an empty answer';
}
