/**
 * The report in a real browser: Debian's Chromium driven by playwright-core. The page is opened from
 * file://, every request is routed through a guard that fails the test on anything but file: and data:
 * URLs, and each chart must draw the marks its data implies. Skips (saying so) without /usr/bin/chromium;
 * .ci/run installs it.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from './index.js';
import { sample } from './test-util.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

if (!HAVE_CHROMIUM) console.warn(`@foliolab/report: SKIPPING the browser test: ${CHROMIUM} is not installed (apt-get install -y chromium; .ci/run installs it).`);

/** Routes every request of the context; records (and aborts) anything that would leave the machine. */
async function guard_network(context: BrowserContext): Promise<string[]> {
  const outside: string[] = [];
  const local = (url: string): boolean => url.startsWith('file:') || url.startsWith('data:') || url.startsWith('about:') || url.startsWith('blob:');
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (local(url)) return route.continue();
    outside.push(url);
    return route.abort('blockedbyclient');
  });
  context.on('request', (req) => {
    if (!local(req.url()) && !outside.includes(req.url())) outside.push(req.url());
  });
  return outside;
}

/** What the sample's data implies each chart must draw: data bars/cells, counted from the fixture itself. */
function expected_bars(): Record<string, number> {
  const r = sample();
  const mc = r.runs.filter((x) => x.kind === 'mapcount' && !x.workload.startsWith('cow.') && x.status === 'ok');
  const fs = r.runs.filter((x) => x.kind === 'fs' && x.status === 'ok' && (x.metrics['fs.bytes'] ?? 0) > 0);
  const out: Record<string, number> = {
    'chart-memmap-machine': r.memmap!.layouts.reduce((a, l) => a + Object.values(l.byType).filter((v) => v > 0).length, 0),
    'chart-memmap-run-0': r.runs.filter((x) => x.kind === 'memmap' && x.status === 'ok').reduce((a, x) => a + Object.entries(x.metrics).filter(([k, v]) => k.startsWith('memmap.bytes.') && v > 0).length, 0),
    'chart-fs-mapping-calls': fs.length,
    'chart-fs-data-bios': fs.length,
    'chart-fs-metadata-bytes': fs.length,
    'chart-cow-matrix': r.cowMatrix!.length * new Set(r.cowMatrix!.flatMap((c) => Object.keys(c.results))).size,
  };
  for (const [id, m] of [['wrong', 'mapcount.wrong'], ['unsafe-reuses', 'mapcount.unsafe_reuses'], ['unnecessary-copies', 'mapcount.unnecessary_copies'], ['metadata-bytes', 'mapcount.metadata_bytes']] as const)
    out[`chart-mapcount-${id}`] = mc.filter((x) => x.metrics[m] !== undefined).length;
  // Histogram bars: one per (policy, non-empty bucket); past 16 the buckets are powers of two.
  const pw = r.runs.filter((x) => x.kind === 'pagewait' && x.status === 'ok');
  [...new Set(pw.map((x) => x.workload))].forEach((w, i) => {
    const runs = pw.filter((x) => x.workload === w);
    const max = Math.max(...runs.flatMap((x) => x.distributions!['pagewait.walk']!.filter(([, c]) => c > 0).map(([v]) => v)));
    const bucket = (v: number): number => (max <= 16 ? v : v < 1 ? -1 : Math.floor(Math.log2(v)));
    out[`chart-pagewait-walk-${i}`] = runs.reduce((a, x) => a + new Set(x.distributions!['pagewait.walk']!.filter(([, c]) => c > 0).map(([v]) => bucket(v))).size, 0);
  });
  return out;
}

describe.skipIf(!HAVE_CHROMIUM)(`the report in headless Chromium (${HAVE_CHROMIUM ? CHROMIUM : `SKIPPED: ${CHROMIUM} not installed`})`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
  }, 40_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('opens from file:// without a single network request or console error, every chart draws its marks; screenshot saved', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'report.html');
    writeReport(file, sample());
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const outside = await guard_network(context);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 30_000 });
    await page.waitForFunction(() => {
      const s = (window as unknown as { foliolabReport?: { total: number; rendered: number; failed: number } }).foliolabReport;
      return s !== undefined && s.rendered + s.failed === s.total;
    }, undefined, { timeout: 30_000 });
    const state = await page.evaluate(() => (window as unknown as { foliolabReport: { total: number; rendered: number; failed: number; errors: string[] } }).foliolabReport);
    const charts = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('div.chart')].map((el) => ({
        id: el.id,
        section: el.closest('section')!.id,
        rendered: el.dataset.rendered,
        svg: el.querySelectorAll('svg').length,
        marks: el.querySelectorAll('svg g.role-mark > *').length,
        bars: el.querySelectorAll('svg g.mark-rect.role-mark > path').length,
      })),
    );
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    await context.close();

    expect(outside).toEqual([]);
    expect(problems).toEqual([]);
    expect(state.errors).toEqual([]);
    expect(state.rendered).toBe(charts.length);
    // A chart per subsystem, each an SVG with marks.
    expect([...new Set(charts.map((c) => c.section))]).toEqual(['memmap', 'mapcount', 'pagewait', 'fs', 'cow']);
    for (const c of charts) {
      expect(c.rendered, c.id).toBe('ok');
      expect(c.svg, c.id).toBe(1);
      expect(c.marks, c.id).toBeGreaterThan(0);
    }
    expect(Object.fromEntries(charts.map((c) => [c.id, c.bars]))).toEqual(expected_bars());
    expect(statSync(join(ARTIFACTS, 'report.png')).size).toBeGreaterThan(50_000);
  }, 60_000);

  it('the network guard does see a request when a page makes one (so its silence above means something)', async () => {
    const context = await browser.newContext();
    const outside = await guard_network(context);
    const page = await context.newPage();
    await page.setContent('<img src="http://192.0.2.1/probe.png">', { waitUntil: 'load' });
    await context.close();
    expect(outside).toContain('http://192.0.2.1/probe.png');
  }, 30_000);
});
