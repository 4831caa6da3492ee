import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// `npm run bench` is not part of CI's run (its targets need a quiet machine), so a bench whose imports no longer match
// dist/ would go unnoticed until someone measures: decide.bench.mjs did, after withDerived moved to facts/derived.
// Each bench is imported by plain Node, whose ESM linking refuses a missing export (vitest's transform would not),
// against the built dist/, without running it.
const BENCH = resolve(import.meta.dirname, '../../bench');
const benches = readdirSync(BENCH).filter((file) => file.endsWith('.bench.mjs'));
const run = promisify(execFile);

describe('the benches load against dist/', () => {
  it('finds the benches', () => {
    expect(benches.length).toBeGreaterThan(5);
  });

  it.each(benches)('%s imports and exports run()', async (file) => {
    const url = pathToFileURL(join(BENCH, file)).href;
    const script = `const bench = await import(${JSON.stringify(url)}); console.log(typeof bench.run);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    expect(stdout.trim()).toBe('function');
  });
});
