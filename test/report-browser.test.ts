import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runSim } from './helpers.js';
import { writeUsersDir } from './support/users-files.js';

/**
 * Opens report.html in headless Chromium (Debian's `chromium` package at /usr/bin/chromium, which
 * .ci/run installs; SIM_CHROMIUM names another binary) and checks what a reader sees: the charts
 * drew, each condition keeps its colour with and without --compare, turnout bars carry their values,
 * and the page ends where its content does. Without the browser the tests are skipped with a note,
 * so `npm test` works on a machine without it; where the browser is required (CI, or
 * SIM_REQUIRE_CHROMIUM=1) a missing one fails.
 */
const CHROMIUM = process.env.SIM_CHROMIUM || '/usr/bin/chromium';
const required = Boolean(process.env.CI) || process.env.SIM_REQUIRE_CHROMIUM === '1';
const missing = !existsSync(CHROMIUM);
const skipped = missing && !required;
if (skipped) {
  process.stderr.write(`report-browser.test.ts: skipped: no browser at ${CHROMIUM} (apt-get install chromium, or SIM_CHROMIUM=/path/to/chromium)\n`);
}
// The reference's published data, when it sits beside the clone; the --compare test says when it is absent.
const REFERENCE = join(PROJECT_ROOT, '..', 'shared', 'reference', 'llm-sociopol', 'seed_1');
const scratch = mkdtempSync(join(tmpdir(), 'sim-browser-'));
let context: BrowserContext;

beforeAll(async () => {
  if (skipped) return;
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: .ci/run installs Debian's chromium package`).toBe(true);
  const users = writeUsersDir(join(scratch, 'users'), 60);
  const out = join(scratch, 'out');
  expect(runSim(['run', '--users-dir', users, '--n-users', '50', '--seed', '3', '--conditions', 'control,treatment_soc_message,experiment_soc_message', '--out', out]).status).toBe(0);
  expect(runSim(['report', '--out', out, '--to', join(scratch, 'report')]).status).toBe(0);
  if (existsSync(REFERENCE)) expect(runSim(['report', '--out', out, '--to', join(scratch, 'compared'), '--compare', REFERENCE]).status).toBe(0);
  // A fresh profile of our own: nothing from another run of the browser can leak in.
  const profile = join(scratch, 'profile');
  mkdirSync(profile);
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 300_000);
afterAll(async () => {
  await context?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function open(folder: string): Promise<{ page: Page; requests: string[] }> {
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(join(scratch, folder, 'report.html')).href);
  return { page, requests };
}

/** The stroke colour of the likelihood line whose aria label names this series. */
async function lineColours(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const out: Record<string, string> = {};
    for (const path of document.querySelectorAll('#likelihood-chart .mark-line.role-mark path')) {
      const series = /series: ([^;]+)/.exec(path.getAttribute('aria-label') ?? '')?.[1] ?? '?';
      out[series] = path.getAttribute('stroke') ?? '';
    }
    return out;
  });
}

describe.skipIf(skipped)('report.html in a browser', () => {
  it('renders its charts with their marks, offline, and ends where its content ends', async () => {
    const { page, requests } = await open('report');
    expect(await page.locator('h1').textContent()).toBe('Run 1');
    for (const id of ['likelihood-chart', 'effect-chart', 'turnout-chart', 'exposure-chart', 'heterogeneity-chart']) {
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
    // a paired and an unpaired point and interval per effect (two conditions versus control), plus the zero line
    expect(await page.locator('#effect-chart .mark-symbol.role-mark path').count()).toBe(4);
    expect(await page.locator('#effect-chart .mark-rule.role-mark line').count()).toBe(5);
    // one bar per condition, each with a width, an interval and its value written beside it
    const bars = page.locator('#turnout-chart .mark-rect.role-mark path');
    expect(await bars.count()).toBe(3);
    for (const box of await Promise.all((await bars.all()).map((b) => b.boundingBox()))) expect(box!.width).toBeGreaterThan(1);
    expect(await page.locator('#turnout-chart .mark-rule.role-mark line').count()).toBe(3);
    const labels = await page.locator('#turnout-chart .mark-text.role-mark text').allTextContents();
    const tableTurnout = await page.$eval('table', (table) => [...table.querySelectorAll('tbody tr')].map((r) => r.children[2].textContent));
    expect(labels).toEqual(tableTurnout);
    expect(labels.every((l) => /^\d+\.\d%$/.test(l))).toBe(true);
    // the spillover table says what its rows mean
    expect(await page.locator('body').textContent()).toMatch(/means that not one of them ended with a different answer/);
    // no key for "this run / reference" without a reference
    expect(await page.locator('#likelihood-chart').textContent()).not.toMatch(/this run|reference/);
    // the page ends with its content: no blank area below the last element
    const [height, bottom] = await page.evaluate(() => [document.documentElement.scrollHeight, Math.max(...[...document.body.children].map((e) => e.getBoundingClientRect().bottom + window.scrollY))]);
    expect(height - bottom).toBeLessThan(80);
    expect(requests.every((u) => u.startsWith('file:'))).toBe(true);
    await page.close();
  }, 60_000);

  it('keeps each condition\'s colour when --compare adds the reference, and shows the reference effects', async (ctx) => {
    if (!existsSync(REFERENCE)) ctx.skip();
    const plain = await open('report');
    const compared = await open('compared');
    const before = await lineColours(plain.page);
    const after = await lineColours(compared.page);
    expect(Object.keys(before).sort()).toEqual(['control', 'experiment_soc_message', 'treatment_soc_message']);
    // fixed colours, whatever else is drawn
    expect(before).toEqual({ control: '#000000', treatment_soc_message: '#d55e00', experiment_soc_message: '#e69f00' });
    for (const [series, colour] of Object.entries(before)) expect(after[series], series).toBe(colour);
    // the reference's lines take their condition's colour
    expect(after['reference: control']).toBe('#000000');
    expect(after['reference: treatment_soc_message']).toBe('#d55e00');
    expect(new Set(Object.values(before)).size).toBe(3);
    // the key for line styles appears with the reference
    expect(await compared.page.locator('#likelihood-chart').textContent()).toMatch(/reference/);
    // the effect chart holds the reference's effects (two conditions beside its control)
    const effectLabels = await compared.page.$$eval('#effect-chart .mark-symbol.role-mark path', (ps) => ps.map((p) => p.getAttribute('aria-label') ?? ''));
    expect(effectLabels.filter((l) => /reference/.test(l))).toHaveLength(2);
    await plain.page.close();
    await compared.page.close();
  }, 60_000);

  it('a pooled report with a pooled reference: titled by what it pools, charts and tables within the page, intervals on one line, no -0.000', async () => {
    const users = join(scratch, 'users');
    const out = join(scratch, 'pooled-out');
    for (const seed of ['3', '4']) expect(runSim(['run', '--users-dir', users, '--n-users', '50', '--seed', seed, '--out', out]).status).toBe(0);
    // result_data/: five seeds of the five default conditions, pooled; long row labels ("reference: experiment_info_message").
    const made = runSim(['report', '1', '2', '--out', out, '--to', join(scratch, 'pooled'), '--compare', join(PROJECT_ROOT, 'result_data')]);
    expect(made.status, made.stderr).toBe(0);
    const { page } = await open('pooled');
    await page.setViewportSize({ width: 1200, height: 900 });
    expect(await page.locator('h1').textContent()).toBe('Runs 1, 2 pooled (seeds 3, 4)');
    // Nothing is wider than the page: each chart fits its box (legends were cut: "poolec", "unp").
    const overflowing = await page.evaluate(() =>
      [...document.querySelectorAll('.chart')].filter((c) => c.querySelector('svg')!.getBoundingClientRect().width > c.clientWidth + 1).map((c) => c.id),
    );
    expect(overflowing).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    // An estimate and its interval stay on one line: every cell of a row is one line high.
    const wrapped = await page.$$eval('td', (cells) => cells.filter((c) => /\[/.test(c.textContent ?? '') && c.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(c).fontSize) + 10).map((c) => c.textContent));
    expect(wrapped).toEqual([]);
    // Per cell and paragraph (the page's text runs cells together: "4.000" then "-" then "0.000").
    const texts = await page.$$eval('td, p', (elements) => elements.map((e) => e.textContent ?? ''));
    expect(texts.filter((t) => /(^|[\s[(,])-0\.0+(?![0-9]*[1-9])/.test(t))).toEqual([]);
    await page.close();
  }, 120_000);
});
