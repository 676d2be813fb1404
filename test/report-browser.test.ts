import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { runSim } from './helpers.js';
import { writeUsersDir } from './support/users-files.js';

/**
 * Opens report.html in headless Chromium (Debian's `chromium` package at /usr/bin/chromium, which
 * .ci/run installs; SIM_CHROMIUM names another binary) and checks the charts drew. Without the
 * browser the test is skipped with a note, so `npm test` works on a machine without it; where the
 * browser is required (CI, or SIM_REQUIRE_CHROMIUM=1, as .ci/run sets) a missing one fails.
 */
const CHROMIUM = process.env.SIM_CHROMIUM || '/usr/bin/chromium';
const required = Boolean(process.env.CI) || process.env.SIM_REQUIRE_CHROMIUM === '1';
const missing = !existsSync(CHROMIUM);
if (missing && !required) {
  process.stderr.write(`report-browser.test.ts: skipped: no browser at ${CHROMIUM} (apt-get install chromium, or SIM_CHROMIUM=/path/to/chromium)\n`);
}
const scratch = mkdtempSync(join(tmpdir(), 'sim-browser-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('report.html in a browser', () => {
  it.skipIf(missing && !required)('renders its three charts with their marks, offline', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: .ci/run installs Debian's chromium package`).toBe(true);
    const users = writeUsersDir(join(scratch, 'users'), 60);
    const out = join(scratch, 'out');
    expect(runSim(['run', '--users-dir', users, '--n-users', '50', '--seed', '3', '--conditions', 'control,treatment_soc_message,experiment_soc_message', '--out', out]).status).toBe(0);
    expect(runSim(['report', '--out', out, '--to', join(scratch, 'report')]).status).toBe(0);

    // A fresh profile of our own: nothing from another run of the browser can leak in.
    const profile = join(scratch, 'profile');
    mkdirSync(profile);
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(join(scratch, 'report', 'report.html')).href);
      expect(await page.locator('h1').textContent()).toBe('Run 1');
      for (const id of ['likelihood-chart', 'effect-chart', 'turnout-chart']) {
        const svg = page.locator(`#${id} > svg`);
        await expect(svg.count()).resolves.toBe(1);
        const box = await svg.boundingBox();
        expect(box!.width, id).toBeGreaterThan(200);
        expect(box!.height, id).toBeGreaterThan(50);
      }
      // one line per condition, drawn with a visible length
      const lines = page.locator('#likelihood-chart .mark-line.role-mark path');
      expect(await lines.count()).toBe(3);
      for (const box of await Promise.all((await lines.all()).map((l) => l.boundingBox()))) expect(box!.width).toBeGreaterThan(100);
      // one point and one interval per effect (two conditions versus control), plus the zero line
      expect(await page.locator('#effect-chart .mark-symbol.role-mark path').count()).toBe(2);
      expect(await page.locator('#effect-chart .mark-rule.role-mark line').count()).toBe(3);
      // one bar per condition, each with a width
      const bars = page.locator('#turnout-chart .mark-rect.role-mark path');
      expect(await bars.count()).toBe(3);
      for (const box of await Promise.all((await bars.all()).map((b) => b.boundingBox()))) expect(box!.width).toBeGreaterThan(1);
      expect(requests.every((u) => u.startsWith('file:'))).toBe(true);
    } finally {
      await context.close();
    }
  }, 60_000);
});
