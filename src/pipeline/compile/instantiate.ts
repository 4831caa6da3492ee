/** Values a template placeholder may take. */
export type Bindings = Record<string, unknown>;

const WHOLE = /^\{\{(\w+)\}\}$/;
const INNER = /\{\{(\w+)\}\}/g;

/**
 * Fills `{{name}}` placeholders in a JSON template: a string that is only a placeholder becomes
 * the bound value itself (a number, a condition); a placeholder inside a longer string is interpolated.
 */
export function instantiate(template: unknown, bindings: Bindings): unknown {
  if (typeof template === 'string') return fillString(template, bindings);
  if (Array.isArray(template)) return template.map((item) => instantiate(item, bindings));
  if (template !== null && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, instantiate(v, bindings)]));
  }
  return template;
}

function fillString(text: string, bindings: Bindings): unknown {
  const whole = WHOLE.exec(text);
  if (whole) return lookup(whole[1] ?? '', bindings);
  return text.replace(INNER, (_, name: string) => String(lookup(name, bindings)));
}

function lookup(name: string, bindings: Bindings): unknown {
  if (!(name in bindings)) throw new Error(`rule template placeholder {{${name}}} has no value`);
  return bindings[name];
}
