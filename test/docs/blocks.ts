import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from '../helpers.js';

/** A fenced code block of a Markdown file: its language and text, and the line of its opening fence. */
export interface Block {
  file: string;
  line: number;
  lang: string;
  text: string;
}

/** The Markdown files whose examples are run: the README, deploy/README.md and docs/. */
export function markdownFiles(): string[] {
  const docs = readdirSync(resolve(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f));
  return ['README.md', 'deploy/README.md', ...docs].sort();
}

export function blocksOf(file: string): Block[] {
  const lines = readFileSync(resolve(ROOT, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  let open: { lang: string; line: number; indent: string; body: string[] } | undefined;
  lines.forEach((line, i) => {
    // An opening fence may name a file after the language (```js receiver.mjs).
    const fence = /^(\s*)```(\w*)(?:\s.*)?$/.exec(line);
    if (fence && !open) open = { lang: fence[2] ?? '', line: i + 1, indent: fence[1] ?? '', body: [] };
    else if (fence && open) {
      blocks.push({
        file,
        line: open.line,
        lang: open.lang,
        text: open.body.map((l) => l.slice(open!.indent.length)).join('\n'),
      });
      open = undefined;
    } else open?.body.push(line);
  });
  return blocks;
}
