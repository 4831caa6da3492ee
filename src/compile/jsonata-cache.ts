/** Moved to src/jsonata/bounded.ts (one cache, one budget for every jsonata evaluation); kept for old imports. */
export { compileJsonata, evaluateJsonata } from '../jsonata/bounded.js';
