import type jsonata from 'jsonata';
import { JSONATA_BUDGET } from './bounded.js';

/**
 * jsonata's AST node; its typings miss some node types (`path`, `bind`, `apply`), so the type is a plain string here.
 */
type ExprNode = { type: string } & Record<string, unknown>;

/** A path read from the expression's input (the snapshot, for a derived fact), as name segments. */
export interface RootPath {
  segments: string[];
  /** When the path is the left side of a subtraction of a path: what `a.b-c.d` was likely meant as (`a.b-c`, `d`). */
  hyphenated?: string[];
}

/** What can be known of an expression without running it. */
export interface Analysis {
  /** Problems that make it unbounded or too large, as messages. */
  problems: string[];
  rootPaths: RootPath[];
}

const isNode = (value: unknown): value is ExprNode =>
  typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';

/** Every node below (and with) a node: its children are every node-valued field, or list of them. */
function* nodesOf(root: ExprNode): Generator<ExprNode> {
  const pending: ExprNode[] = [root];
  for (let node = pending.pop(); node; node = pending.pop()) {
    yield node;
    for (const value of Object.values(node)) {
      const items: unknown[] = Array.isArray(value) ? value.flat() : [value];
      for (const item of items) if (isNode(item)) pending.push(item);
    }
  }
}

export function analyse(expression: jsonata.Expression): Analysis {
  const ast = expression.ast() as ExprNode;
  const problems: string[] = [];
  for (const node of nodesOf(ast)) {
    problems.push(...recursionProblems(node), ...rangeProblems(node));
  }
  const rootPaths: RootPath[] = [];
  collectRootPaths(ast, rootPaths);
  return { problems, rootPaths };
}

/** `$f := function(…){ … $f(…) … }`: a function that calls itself may never end; recursion is refused. */
function recursionProblems(node: ExprNode): string[] {
  if (node.type !== 'bind' || !isNode(node.lhs) || !isNode(node.rhs) || node.rhs.type !== 'lambda') return [];
  const name = node.lhs.value as string;
  for (const inner of nodesOf(node.rhs)) {
    const procedure = inner.procedure as ExprNode | undefined;
    if (inner.type === 'function' && procedure?.type === 'variable' && procedure.value === name) {
      return [`function $${name} calls itself: recursion is not allowed (an evaluation has a time and depth budget)`];
    }
  }
  return [];
}

/** `[1..3000000]`: a range of literals longer than the sequence cap can never be evaluated. */
function rangeProblems(node: ExprNode): string[] {
  if (node.type !== 'binary' || node.value !== '..' || !isNode(node.lhs) || !isNode(node.rhs)) return [];
  if (node.lhs.type !== 'number' || node.rhs.type !== 'number') return [];
  const size = (node.rhs.value as number) - (node.lhs.value as number) + 1;
  return size > JSONATA_BUDGET.sequence
    ? [
        `the range [${String(node.lhs.value)}..${String(node.rhs.value)}] has ${size} items, above the cap of ` +
          `${JSONATA_BUDGET.sequence}`,
      ]
    : [];
}

/** Child fields evaluated with the same input as their node (not predicates, not function bodies). */
const SAME_INPUT: Record<string, readonly string[]> = {
  binary: ['lhs', 'rhs'],
  unary: ['expression', 'expressions'],
  condition: ['condition', 'then', 'else'],
  block: ['expressions'],
  bind: ['rhs'],
  function: ['arguments'],
  apply: ['lhs', 'rhs'],
};

/** The paths an expression reads from its input, where that input is certainly the root (the snapshot). */
function collectRootPaths(node: ExprNode, out: RootPath[]): void {
  const own =
    node.type === 'path'
      ? rootPathOf(node)
      : node.type === 'binary' && node.value === '-'
        ? hyphenatedPath(node)
        : null;
  if (own) {
    out.push(own);
    return;
  }
  if (node.type === 'path') return;
  for (const child of sameInputChildren(node)) collectRootPaths(child, out);
}

function sameInputChildren(node: ExprNode): ExprNode[] {
  const values = (SAME_INPUT[node.type] ?? []).map((field) => node[field]);
  // An object constructor's pairs: [[key, value], …].
  if (node.type === 'unary' && node.value === '{') values.push(node.lhs);
  return values
    .flatMap((value): unknown[] => (Array.isArray(value) ? (value as unknown[]).flat(2) : [value]))
    .filter(isNode);
}

/** The leading names of a path from the input (`checks.x.value`, or after `$$` / `$`); wildcards read as `*`. */
function rootPathOf(node: ExprNode): RootPath | null {
  const steps = (node.steps as ExprNode[] | undefined) ?? [];
  const start = firstNameStep(steps[0]);
  if (start === null) return null;
  const segments: string[] = [];
  for (const step of steps.slice(start)) {
    const segment = segmentOf(step);
    if (segment === undefined) break;
    segments.push(segment);
    if (step.stages || step.predicate || step.group) break;
  }
  return segments.length > 0 ? { segments } : null;
}

/** Where a path's names start: at 0 (`checks.x`), at 1 after `$$` or `$`; null for a path from elsewhere (`$var.x`). */
function firstNameStep(first: ExprNode | undefined): number | null {
  if (first?.type === 'name') return 0;
  return first?.type === 'variable' && (first.value === '$' || first.value === '') ? 1 : null;
}

const segmentOf = (step: ExprNode): string | undefined =>
  step.type === 'name' ? String(step.value) : step.type === 'wildcard' ? '*' : undefined;

/** `checks.request-rate.value` parses as `checks.request - rate.value`. */
function hyphenatedPath(node: ExprNode): RootPath | null {
  const left = isNode(node.lhs) && node.lhs.type === 'path' ? rootPathOf(node.lhs) : null;
  const right = isNode(node.rhs) && node.rhs.type === 'path' ? rootPathOf(node.rhs) : null;
  if (!left || !right) return null;
  const head = left.segments.slice(0, -1);
  const joined = `${left.segments.at(-1) ?? ''}-${right.segments[0] ?? ''}`;
  return { segments: left.segments, hyphenated: [...head, joined, ...right.segments.slice(1)] };
}
