import { z } from 'zod';
import { ACTIONS } from '../decide/decision.js';
import { fromZodIssues } from '../policy/issues.js';
import { strict } from '../policy/strict.js';
import { issueLines, readSource, type SourceDocument } from '../policy/yaml.js';

const caseSchema = strict({
  name: z.string().min(1),
  facts: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  expect: strict({ action: z.enum(ACTIONS), reasons: z.array(z.string().min(1)).default([]) }),
});

/** A policy test file (`*.test.yaml`, DESIGN.md §6): cases, or the exact error lines of an invalid policy. */
const testFileSchema = strict({
  policy: z.string().min(1),
  cases: z.array(caseSchema).default([]),
  expectErrors: z.array(z.string()).optional(),
}).refine((t) => t.cases.length > 0 || t.expectErrors !== undefined, { error: 'a test file needs cases or expectErrors' });

export type TestFile = z.output<typeof testFileSchema>;
export type TestCase = TestFile['cases'][number];

export async function loadTestFile(file: string): Promise<{ test: TestFile; doc: SourceDocument } | { errors: string[] }> {
  const source = await readSource(file);
  if (source.errors.length > 0) return { errors: source.errors };
  const [doc, ...more] = source.documents;
  if (!doc || more.length > 0) return { errors: [`${file}:0: (file): expected exactly one test document`] };
  const parsed = testFileSchema.safeParse(doc.raw, { reportInput: true });
  return parsed.success ? { test: parsed.data, doc } : { errors: issueLines(file, doc, fromZodIssues(parsed.error.issues)) };
}
