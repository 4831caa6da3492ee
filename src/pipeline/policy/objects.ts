/** A plain object (not null, not a list): the one type guard for untrusted input. */
export type Obj = Record<string, unknown>;
export const isObj = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
/** A list, or empty for anything else: for walking input whose types the schema reports. */
export const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
