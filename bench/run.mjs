#!/usr/bin/env node
// Runs every bench/*.bench.mjs (or the ones named: `npm run bench -- decide`) against dist/.
import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = (await readdir(here)).filter((f) => f.endsWith('.bench.mjs')).sort();
for (const file of files) {
  const name = file.replace(/\.bench\.mjs$/, '');
  if (wanted.length && !wanted.includes(name)) continue;
  console.log(`\n## ${name}`);
  const bench = await import(pathToFileURL(join(here, file)).href);
  await bench.run();
}
