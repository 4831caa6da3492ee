import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ROOT } from '../helpers.js';
import { prometheusTestsEnabled } from '../metrics/prometheus-harness.js';
import { axeViolations, browserMissing, openBrowser, screenshot, type Browser } from '../support/browser.js';
import { apply, kubectl, operatorCluster, policyYaml, waitForPhase, workloadYaml } from '../e2e/support.js';
import { call, DashboardProcess } from './process.js';

const exec = promisify(execFile);
const enabled = prometheusTestsEnabled() && !browserMissing();

/** The text of a cell of the overview's row of a policy. */
const cell = (page: Page, policy: string, field: string): Promise<string> =>
  page.locator(`tr[data-policy="${policy}"] td[data-field="${field}"]`).innerText();

async function expectAccessible(page: Page, what: string): Promise<void> {
  const violations = await axeViolations(page);
  expect(
    violations.map((v) => `${what}: ${v.id} (${v.impact ?? '?'}) ${v.help} at ${v.nodes[0]?.target.join(' ')}`),
  ).toEqual([]);
}

describe.runIf(enabled)('the dashboard in a browser, against the sandbox during a rollout', () => {
  const cluster = operatorCluster();
  let dashboard: (DashboardProcess & { url: string }) | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    await dashboard?.stop();
  });

  it('shows every policy, follows the phase live, charts the checks against their bounds, and stays read-only', async () => {
    const { sandbox, prom } = cluster;
    await apply(sandbox, workloadYaml('shop', 'checkout', 'example/checkout:1'));
    await cluster.operator('shop');
    await apply(sandbox, policyYaml('shop', 'checkout', prom.url).replaceAll('soak: 3s', 'soak: 4s'));
    await waitForPhase(sandbox, 'shop', 'checkout', 'Idle', 30_000);

    dashboard = await DashboardProcess.start(sandbox.kubeconfigPath, ['-n', 'shop']);
    expect(dashboard.output).toContain('(namespace shop, read-only)');
    browser = await openBrowser();
    const { page } = browser;
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    const first = await page.goto(dashboard.url);
    expect(first?.status()).toBe(200);
    await expect.poll(() => cell(page, 'shop/checkout', 'phase')).toBe('Idle');
    expect(await page.locator('h1').innerText()).toBe('Rollout policies');
    expect(await page.locator('table#policies thead th').allInnerTexts()).toEqual([
      'policy',
      'phase',
      'step',
      'weight asked',
      'weight given',
      'last decision',
      'age',
    ]);
    await expectAccessible(page, 'overview');
    await screenshot(page, 'dashboard-overview-idle');
    // the first page: the HTML, its stylesheet and its script
    const [html, css, js] = await Promise.all(['', 'style.css', 'app.js'].map((p) => call(`${dashboard!.url}${p}`)));
    const firstPageBytes = [html, css, js].reduce((n, r) => n + Buffer.byteLength(r!.text), 0);
    expect(firstPageBytes).toBeLessThan(100_000);

    // a good release: the page follows it without a reload
    await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
    await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:2', '-n', 'shop');
    await expect.poll(() => cell(page, 'shop/checkout', 'phase'), { timeout: 30_000 }).toBe('Progressing');
    expect(await cell(page, 'shop/checkout', 'asked')).toMatch(/^(25|50)%$/);
    await screenshot(page, 'dashboard-overview-progressing');
    await expect.poll(() => cell(page, 'shop/checkout', 'phase'), { timeout: 60_000 }).toBe('Succeeded');
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await cell(page, 'shop/checkout', 'decision')).toMatch(/^promote/);
    expect(await page.locator('#live').innerText()).toBe('shop/checkout: Succeeded');

    // keyboard: the skip link, then the dashboard link, then the policy's link; Enter opens its page
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('shop/checkout');
    await Promise.all([page.waitForURL(/\/policies\/shop\/checkout$/), page.keyboard.press('Enter')]);

    // the policy's page
    expect(await page.locator('h1').innerText()).toBe('shop/checkout');
    expect(await page.locator('#summary dd[data-field="phase"]').innerText()).toBe('Succeeded');
    expect(await page.locator('ol.timeline li').allInnerTexts()).toEqual([
      'step 1/2\nweight 25% for 4s (done)',
      'step 2/2\nweight 50% for 4s (done)',
    ]);
    const chart = page.locator('#checks svg[role="img"]');
    expect(await chart.locator('g.check[data-check="errors"] circle.point').count()).toBeGreaterThan(1);
    expect(await chart.locator('g.check[data-check="errors"] line.bound').count()).toBe(1);
    expect(await chart.locator('text').allTextContents()).toContain('max 0.2');
    expect(await page.locator('#checks figcaption').innerText()).toMatch(
      /^errors: \d+ readings from .* against max 0\.2\.$/,
    );
    expect(await page.locator('#decision strong').innerText()).toBe('promote');
    expect(await page.locator('#audit p').first().innerText()).toMatch(/^Verified: OK shop\/checkout: \d+ entries/);
    await expectAccessible(page, 'policy page');

    // a bad release rolls back: the policy page follows it live, with the breach and the report
    prom.exporter.canaryErrors = 40;
    await kubectl(sandbox, 'set', 'image', 'deployment/checkout', 'app=example/checkout:3', '-n', 'shop');
    await expect
      .poll(() => page.locator('#summary dd[data-field="phase"]').innerText(), { timeout: 60_000 })
      .toBe('RolledBack');
    await expect.poll(() => page.locator('#reports tbody tr').count(), { timeout: 20_000 }).toBe(1);
    expect(await page.locator('#decision').innerText()).toMatch(/errors = [\d.]+ is above max 0\.2/);
    expect(
      await page.locator('#checks g.check[data-check="errors"] circle.point[fill="#c62828"]').count(),
    ).toBeGreaterThan(0);
    await expectAccessible(page, 'policy page after a rollback');
    await screenshot(page, 'dashboard-policy-rolled-back');

    // the API serves what `kubestead status -o json` prints
    const env = { PATH: process.env.PATH ?? '', KUBECONFIG: sandbox.kubeconfigPath };
    const [{ stdout }, api] = await Promise.all([
      exec(process.execPath, [resolve(ROOT, 'bin/kubestead'), 'status', 'checkout', '-n', 'shop', '-o', 'json'], {
        env,
      }),
      call(`${dashboard.url}api/v1/namespaces/shop/policies/checkout`),
    ]);
    expect(JSON.parse(api.text)).toEqual(JSON.parse(stdout));

    // read-only, and nothing fetched from elsewhere
    for (const method of ['POST', 'PUT', 'DELETE'])
      for (const path of ['', 'api/v1/policies', 'api/v1/namespaces/shop/policies/checkout'])
        expect((await call(`${dashboard.url}${path}`, method)).status, `${method} /${path}`).toBe(405);
    expect(requested.filter((u) => !u.startsWith(dashboard!.url))).toEqual([]);
    expect(await dashboard.stop()).toBe(0);
    dashboard = undefined;
  }, 300_000);
});
