import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { runSim } from './helpers.js';
import { writeUsersDir } from './support/users-files.js';

/** Opens report.html in headless Chromium (Debian's, installed by .ci/run) and checks the charts drew. */
const CHROMIUM = '/usr/bin/chromium';
const scratch = mkdtempSync(join(tmpdir(), 'sim-browser-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('report.html in a browser', () => {
  it('renders its three charts with marks, offline', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: .ci/run installs Debian's chromium package`).toBe(true);
    const users = writeUsersDir(join(scratch, 'users'), 60);
    const out = join(scratch, 'out');
    expect(runSim(['run', '--users-dir', users, '--n-users', '50', '--conditions', 'control,treatment_soc_message', '--out', out]).status).toBe(0);
    expect(runSim(['report', '--out', out, '--to', join(scratch, 'report')]).status).toBe(0);

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      // playwright gives the browser a fresh, empty profile of its own.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(join(scratch, 'report', 'report.html')).href);
      for (const id of ['likelihood-chart', 'effect-chart', 'turnout-chart']) {
        const svg = page.locator(`#${id} svg`);
        await expect(svg.count()).resolves.toBe(1);
        const box = await svg.boundingBox();
        expect(box!.width).toBeGreaterThan(200);
        expect(box!.height).toBeGreaterThan(50);
        expect(await page.locator(`#${id} svg path`).count()).toBeGreaterThan(3);
      }
      // lines for both conditions and one bar per condition
      expect(await page.locator('#turnout-chart svg .mark-rect path').count()).toBe(2);
      expect(await page.locator('h1').textContent()).toBe('Run 1');
      expect(requests.every((u) => u.startsWith('file:'))).toBe(true);
      await page.screenshot({ path: join(scratch, 'report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
