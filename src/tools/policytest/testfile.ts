import { z } from 'zod';
import { ACTIONS } from '../../pipeline/policy/vocabulary.js';
import { fromZodIssues } from '../../pipeline/policy/issues.js';
import { displayNameOf } from '../../pipeline/policy/read.js';
import { strict } from '../../pipeline/policy/strict.js';
import { issueLines, readOneDocument, type SourceDocument } from '../../pipeline/policy/yaml.js';

const caseSchema = strict({
  name: z.string().min(1),
  facts: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  expect: strict({ action: z.enum(ACTIONS), reasons: z.array(z.string().min(1)).default([]) }),
});

/**
 * A policy test file (`*.test.yaml`, docs/architecture.md, "The command"): cases, or the exact error lines of an
 * invalid policy.
 */
const testFileSchema = strict({
  policy: z.string().min(1),
  cases: z.array(caseSchema).default([]),
  expectErrors: z.array(z.string()).optional(),
}).refine((t) => t.cases.length > 0 || t.expectErrors !== undefined, {
  error: 'a test file needs cases or expectErrors',
});

export type TestFile = z.output<typeof testFileSchema>;
export type TestCase = TestFile['cases'][number];

export async function loadTestFile(
  file: string,
): Promise<{ test: TestFile; doc: SourceDocument } | { errors: string[] }> {
  const read = await readOneDocument(file, 'test');
  if ('errors' in read) return read;
  const parsed = testFileSchema.safeParse(read.doc.raw, { reportInput: true });
  return parsed.success
    ? { test: parsed.data, doc: read.doc }
    : { errors: issueLines(displayNameOf(file), read.doc, fromZodIssues(parsed.error.issues)) };
}
