import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** The system browser (Debian `chromium`); .ci/run installs it. */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where tests leave screenshots: test-output/ at the repository root (git-ignored). */
export const TEST_OUTPUT = join(import.meta.dirname, '..', '..', 'test-output');

/** True when the browser is missing and the test should skip (it throws under CI). */
export function browserMissing(): boolean {
  if (CHROMIUM) return false;
  if (process.env.CI === 'true') throw new Error('chromium is missing: .ci/run installs the Debian package chromium');
  console.warn('\n*** SKIPPED: no chromium (apt-get install chromium) — the page was not loaded in a browser ***\n');
  return true;
}

export interface Browser {
  page: Page;
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile; every request outside `allowOrigin` is recorded as external. */
export async function openBrowser(opts: { extraHeaders?: Record<string, string> } = {}): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'kubestead-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM!,
    args: FLAGS,
    headless: true,
    viewport: { width: 1200, height: 800 },
    ...(opts.extraHeaders ? { extraHTTPHeaders: opts.extraHeaders } : {}),
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    page,
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core (WCAG 2 A and AA) on the page and returns its violations. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const source = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated rather than added as an inline <script>: a page whose Content-Security-Policy forbids
  // inline scripts (the dashboard's) is checked as it is served.
  await page.evaluate(source);
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (o: unknown) => Promise<{ violations: AxeViolation[] }> } })
      .axe;
    const result = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes }));
  });
}

/** Saves a full-page screenshot into the test output folder and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(TEST_OUTPUT, { recursive: true });
  const path = join(TEST_OUTPUT, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
