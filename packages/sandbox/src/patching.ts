import { jsonPatch, mergePatch, type PatchType } from './patch.js';
import type { ResourceType } from './registry.js';
import { ApiError, badRequest, failure } from './status.js';
import { strategicMergePatch } from './strategic.js';
import { isRecord } from './types.js';

const UNSUPPORTED =
  'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, ' +
  'application/merge-patch+json';

/**
 * Server-side apply is refused rather than imitated: without managedFields and conflicts it would pass here and fail on
 * a cluster.
 */
export const SERVER_SIDE_APPLY_REFUSED =
  'the sandbox does not implement server-side apply (application/apply-patch+yaml): field managers, managedFields ' +
  'and apply conflicts are not emulated, so it refuses it rather than accept what a real API server would not; use ' +
  'a merge, strategic-merge or JSON patch (kubectl apply without --server-side)';

/** Applies a client's patch of the given type to the current object (a copy comes back). */
export function applyPatch(type: ResourceType, current: unknown, patch: { type: PatchType; body: unknown }): unknown {
  switch (patch.type) {
    case 'json':
      return jsonPatch(current, patch.body);
    case 'apply':
      throw new ApiError(failure(415, 'UnsupportedMediaType', SERVER_SIDE_APPLY_REFUSED));
    case 'merge':
      if (!isRecord(patch.body)) throw badRequest('merge patch must be a JSON object');
      return mergePatch(current, patch.body);
    case 'strategic':
      if (!type.builtin) throw new ApiError(failure(415, 'UnsupportedMediaType', UNSUPPORTED));
      return strategicMergePatch(current, patch.body);
  }
}
