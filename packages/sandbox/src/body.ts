import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { decodeProtobuf } from './protobuf.js';
import { ApiError, badRequest, failure } from './status.js';

/** The API server's request size limit (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES)
      throw new ApiError(failure(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? 'application/json';
}

const YAML_TYPES = new Set(['application/yaml', 'application/apply-patch+yaml', 'text/yaml']);
const JSON_TYPES = new Set([
  'application/json',
  'application/merge-patch+json',
  'application/json-patch+json',
  'application/strategic-merge-patch+json',
  '*/*',
  '',
]);

/** How deep a body may nest (the API server's JSON decoder stops at 10,000; this is enough for any object). */
export const MAX_DEPTH = 1000;

/** 400 for a body nested deeper than MAX_DEPTH, checked without recursion. */
function checkDepth(value: unknown): unknown {
  let level: unknown[] = [value];
  for (let depth = 0; level.length > 0; depth++) {
    if (depth > MAX_DEPTH) throw badRequest(`json: exceeded max depth ${MAX_DEPTH}`);
    level = level.flatMap((v): unknown[] => (v !== null && typeof v === 'object' ? Object.values(v) : []));
  }
  return value;
}

/** A request body as JSON (from JSON or YAML); undefined when empty. 400 when malformed, 415 for other media types. */
export function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  return checkDepth(decode(raw, contentType));
}

function decode(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return undefined;
  const type = mediaType(contentType);
  if (type === 'application/vnd.kubernetes.protobuf') return decodeProtobuf(raw);
  if (YAML_TYPES.has(type)) {
    try {
      return parseYaml(raw.toString('utf8')) as unknown;
    } catch (error) {
      throw badRequest(
        `error converting YAML to JSON: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      );
    }
  }
  if (!JSON_TYPES.has(type)) {
    throw new ApiError(
      failure(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json, ` +
          `application/yaml`,
      ),
    );
  }
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch (error) {
    throw badRequest(`the request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}
