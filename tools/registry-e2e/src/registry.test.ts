/**
 * End-to-end publishing test. Builds every package, publishes each one to a verdaccio started here on
 * 127.0.0.1 (storage in a temp folder, @foliolab/* never proxied), installs @foliolab/compare and the
 * CLI into a fresh temp project from that registry alone, and runs user code and the `foliolab`
 * binary there. The registry is stopped and every temp file removed in afterAll, pass or fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT, publishable_packages, type WorkspacePackage } from './workspace.js';
import { npm_env } from './pack.js';
import { registry_start, type Registry } from './verdaccio.js';

/** The registry verdaccio proxies third-party packages from (never @foliolab/*). */
const UPLINK = process.env.FOLIOLAB_E2E_UPLINK ?? 'https://registry.npmjs.org/';
const TSX = import.meta.resolve('tsx');
/** What a user installs; user code imports these directly. */
const INSTALL = ['@foliolab/compare', '@foliolab/cli', '@foliolab/machine', '@foliolab/vm', '@foliolab/memmap', '@foliolab/workloads', 'tsx@^4.23.15'];

let tmp: string;
let app: string;
let reg: Registry | undefined;
let packages: WorkspacePackage[];
const timings: Record<string, number> = {};

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? npm_env(), encoding: 'utf8', timeout: opts.timeout ?? 120_000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r;
}

function must(r: SpawnSyncReturns<string>, what: string): SpawnSyncReturns<string> {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}:\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-1000)}`);
  return r;
}

/** npm with only our config: the temp userconfig, an empty globalconfig, a temp cache. */
function npm_args(): string[] {
  return ['--registry', reg!.url, '--userconfig', reg!.npmrc, '--globalconfig', join(tmp, 'global-npmrc'), '--cache', join(tmp, 'npm-cache'), '--no-audit', '--no-fund'];
}

/** `npx --no -- foliolab ...` in the app, with only our npm config (and never installing anything). */
function foliolab(args: string[]): SpawnSyncReturns<string> {
  return run('npx', ['--userconfig', reg!.npmrc, '--globalconfig', join(tmp, 'global-npmrc'), '--cache', join(tmp, 'npm-cache'), '--no', '--', 'foliolab', ...args], { cwd: app, env: user_env() });
}

/** GET from the registry on a fresh connection (verdaccio drops idle keep-alive sockets). */
async function registry_get(path: string): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetch(`${reg!.url}${path}`);
    } catch (e) {
      if (attempt >= 2) throw e;
    }
  }
}

/** The environment user code runs in: nothing that points at the workspace. */
function user_env(): NodeJS.ProcessEnv {
  const env = npm_env();
  delete env.NODE_OPTIONS;
  delete env.NODE_PATH;
  return env;
}

async function timed<T>(label: string, f: () => T | Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await f();
  } finally {
    timings[label] = (Date.now() - t0) / 1000;
  }
}

beforeAll(async () => {
  packages = publishable_packages();
  tmp = mkdtempSync(join(tmpdir(), 'foliolab-registry-e2e-'));
  // 1. Build exactly what the nx build targets build (tsc --build of each tsconfig.lib.json); a no-op when up to date.
  await timed('build', () =>
    must(run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--build', ...packages.map((p) => join(p.dir, 'tsconfig.lib.json'))], { cwd: ROOT, timeout: 180_000 }), 'tsc --build'),
  );
  // 2. The registry.
  reg = await timed('verdaccio start', () => registry_start(join(tmp, 'registry'), UPLINK));
  // 3. Publish every package, dependencies first.
  await timed('publish', () => {
    for (const p of packages) must(run('npm', ['publish', '--ignore-scripts', ...npm_args()], { cwd: p.dir }), `npm publish ${p.name}`);
  });
  // 4. A fresh project that installs from that registry alone.
  app = join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'foliolab-e2e-app', version: '1.0.0', private: true, type: 'module' }, null, 2));
  await timed('install', () => must(run('npm', ['install', ...npm_args(), ...INSTALL], { cwd: app, timeout: 180_000 }), 'npm install'));
}, 240_000);

afterAll(async () => {
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  process.stdout.write(`registry-e2e timings (s): ${JSON.stringify(timings)}\n`);
});

describe('the published packages', () => {
  it('were never on the registry before we published them (no uplink serves @foliolab/*)', async () => {
    // A name we never publish: verdaccio must not look it up anywhere else.
    const r = await registry_get('@foliolab%2fnot-a-package');
    expect(r.status).toBe(404);
  });

  it('are all on the registry, at the workspace versions', async () => {
    for (const p of packages) {
      const r = await registry_get(p.name.replace('/', '%2f'));
      expect(r.status, p.name).toBe(200);
      const doc = (await r.json()) as { 'dist-tags': { latest: string } };
      expect(doc['dist-tags'].latest, p.name).toBe(p.version);
    }
  });

  it('are installed from the registry tarballs: real directories, nothing resolving into the workspace', () => {
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; resolved?: string; integrity?: string; link?: boolean }> };
    const installed = readdirSync(join(app, 'node_modules/@foliolab')).sort();
    // Every package a user of compare + cli needs arrives, and each is a published one.
    expect(installed).toEqual(expect.arrayContaining(['cli', 'compare', 'machine', 'memmap', 'procfs', 'report', 'vm', 'workloads']));
    for (const short of installed) {
      const name = `@foliolab/${short}`;
      const p = packages.find((x) => x.name === name);
      expect(p, `${name} is not a workspace package`).toBeDefined();
      const dir = join(app, 'node_modules', name);
      expect(lstatSync(dir).isSymbolicLink(), `${name} is a symlink`).toBe(false);
      expect(realpathSync(dir).startsWith(ROOT), `${name} resolves into the workspace`).toBe(false);
      const entry = lock.packages[`node_modules/${name}`]!;
      expect(entry.link, `${name} is linked`).toBeUndefined();
      expect(entry.version).toBe(p!.version);
      expect(entry.resolved, name).toBe(`${reg!.url}${name}/-/${short}-${p!.version}.tgz`);
      // The integrity npm checked is that of the tarball verdaccio stored when we published.
      const stored = readFileSync(join(tmp, 'registry/storage', name, `${short}-${p!.version}.tgz`));
      expect(entry.integrity, name).toBe(`sha512-${createHash('sha512').update(stored).digest('base64')}`);
    }
    // No file anywhere under node_modules/@foliolab is a link, or resolves into the workspace.
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const f = join(d, e.name);
        expect(e.isSymbolicLink(), `${f} is a symlink`).toBe(false);
        expect(realpathSync(f).startsWith(ROOT), `${f} resolves into ${ROOT}`).toBe(false);
        if (e.isDirectory()) walk(f);
      }
    };
    walk(join(app, 'node_modules/@foliolab'));
  });

  it('are what user code in the app resolves to (dist/, under the app)', () => {
    const names = INSTALL.filter((n) => n.startsWith('@foliolab/') && n !== '@foliolab/cli');
    const code = `for (const n of ${JSON.stringify(names)}) console.log(n + ' ' + import.meta.resolve(n));`;
    const r = must(run(process.execPath, ['--input-type=module', '-e', code], { cwd: app, env: user_env() }), 'import.meta.resolve in the app');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(names.length);
    for (const line of lines) {
      const [name, url] = line.split(' ') as [string, string];
      expect(url, name).toBe(`file://${realpathSync(app)}/node_modules/${name}/dist/index.js`);
    }
  });

  it('ship what they need at run time', () => {
    const nm = join(app, 'node_modules/@foliolab');
    for (const f of ['compare/dist/worker.js', 'cli/dist/main.js', 'procfs/test-fixtures/kpage-snapshot-idle', 'workloads/workloads/thp-fork-partial.yaml', 'memmap/LICENSE', 'cli/LICENSE']) {
      expect(existsSync(join(nm, f)), f).toBe(true);
    }
    const yaml = readdirSync(join(ROOT, 'packages/workloads/workloads')).filter((f) => f.endsWith('.yaml'));
    expect(readdirSync(join(nm, 'workloads/workloads')).sort()).toEqual(yaml.sort());
    // Tests and build info stay home.
    const leaked = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? leaked(join(d, e.name)) : /\.test\.ts$|\.tsbuildinfo$/.test(e.name) ? [join(d, e.name)] : []));
    expect(leaked(nm)).toEqual([]);
  });
});

describe('user code in the fresh project', () => {
  it('composes a machine with its own mapcount policy (examples/custom-mapcount.ts) and gets the workspace numbers', () => {
    for (const f of ['custom-mapcount.ts', 'troll-mapcount.ts']) writeFileSync(join(app, f), readFileSync(join(ROOT, 'examples', f), 'utf8'));
    // In the app: no @foliolab/source condition, so the packages' dist/ is what runs.
    const r = must(run(process.execPath, ['--import', 'tsx', 'custom-mapcount.ts', 'thp-fork-partial', '--json'], { cwd: app, env: user_env() }), 'custom-mapcount in the app');
    const published = JSON.parse(r.stdout) as { rows: Array<Record<string, unknown>> };
    expect(published.rows.map((x) => x.policy)).toEqual(['upstream', 'troll']);
    // The same program against the workspace sources: the published build must compute the same.
    const src = must(run(process.execPath, ['--conditions=@foliolab/source', '--import', TSX, 'examples/custom-mapcount.ts', 'thp-fork-partial', '--json'], { cwd: ROOT, env: user_env() }), 'custom-mapcount in the repo');
    expect(published).toEqual(JSON.parse(src.stdout));
  });

  it('loads a JavaScript policy of its own into the installed `foliolab compare` by path', () => {
    const source = readFileSync(join(ROOT, 'examples/troll-mapcount.ts'), 'utf8');
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } }).outputText;
    writeFileSync(join(app, 'troll-mapcount.mjs'), js);
    const r = must(foliolab(['compare', 'thp-fork-partial', '--layout', 'struct-page', '--mapcount', 'upstream,./troll-mapcount.mjs', '--format', 'json', '--jobs', '2']), 'foliolab compare');
    const res = JSON.parse(r.stdout) as { schema: string; versions: Record<string, string>; runs: Array<{ composition: { mapcount: string }; status: string; reason?: string }> };
    expect(res.schema).toBe('foliolab/compare@1');
    expect(res.runs.map((x) => [x.composition.mapcount, x.status, x.reason])).toEqual([
      ['upstream', 'ok', undefined],
      ['./troll-mapcount.mjs', 'ok', undefined],
    ]);
    for (const p of packages) if (p.name in res.versions) expect(res.versions[p.name], p.name).toBe(p.version);

    // A copy missing a method is refused: one line naming it, exit 2.
    writeFileSync(join(app, 'broken.mjs'), js.replace(/^ {4}folio_move_pmd\(\) \{ \}\n/m, '').replace(/^ {2}folio_move_pmd\(\) \{ \}\n/m, ''));
    expect(readFileSync(join(app, 'broken.mjs'), 'utf8')).not.toMatch(/folio_move_pmd\(/);
    const bad = foliolab(['compare', 'thp-fork-partial', '--mapcount', './broken.mjs']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^foliolab: --mapcount: .*broken\.mjs.*folio_move_pmd/)]);
  });
});

describe('the installed foliolab binary', () => {
  it('`foliolab run thp-fork-partial --json` gives the workspace CLI\'s numbers', () => {
    const r = must(foliolab(['run', 'thp-fork-partial', '--json']), 'foliolab run');
    const out = JSON.parse(r.stdout) as { schema: string; workload: string; runs: Array<{ layout: string; mapcount: string; status: string; metrics: Record<string, number> }> };
    expect(out.schema).toBe('foliolab/run@1');
    expect(out.workload).toBe('thp-fork-partial');
    expect(out.runs.length).toBeGreaterThan(1);
    for (const x of out.runs) expect(x.status, `${x.layout}/${x.mapcount}`).toMatch(/^(ok|refused)$/);
    const src = must(run(process.execPath, ['--conditions=@foliolab/source', '--import', TSX, 'apps/cli/src/main.ts', 'run', 'thp-fork-partial', '--json'], { cwd: ROOT, env: user_env() }), 'workspace foliolab run');
    const want = JSON.parse(src.stdout) as typeof out;
    const strip = (o: typeof out) => o.runs.map((x) => ({ layout: x.layout, mapcount: x.mapcount, status: x.status, metrics: x.metrics }));
    expect(strip(out)).toEqual(strip(want));
  });

  it('`foliolab workloads` lists every built-in workload', () => {
    const r = must(foliolab(['workloads']), 'foliolab workloads');
    const names = readdirSync(join(ROOT, 'packages/workloads/workloads')).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    expect(names.length).toBeGreaterThan(10);
    for (const n of names) expect(r.stdout, n).toMatch(new RegExp(`(^|\\s)${n.replace(/[.]/g, '\\.')}(\\s|$)`, 'm'));
  });

  it('`foliolab --version` is the published version', () => {
    const r = must(foliolab(['--version']), 'foliolab --version');
    expect(r.stdout.trim()).toBe(packages.find((p) => p.name === '@foliolab/cli')!.version);
  });
});
