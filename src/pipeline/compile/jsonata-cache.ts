/** Moved to src/lib/jsonata/bounded.ts (one cache, one budget for every jsonata evaluation); kept for old imports. */
export { compileJsonata, evaluateJsonata } from '../../lib/jsonata/bounded.js';
