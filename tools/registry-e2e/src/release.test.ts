import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caret_satisfies } from './pack.js';
import { check_one } from './release.js';
import { publishable_packages, type PackageJson, type WorkspacePackage } from './workspace.js';

describe('caret_satisfies (semver ^, 0.x rules included)', () => {
  it.each([
    ['^0.1.0', '0.1.0', true],
    ['^0.1.0', '0.1.7', true],
    ['^0.1.0', '0.2.0', false],
    ['^0.1.2', '0.1.1', false],
    ['^0.0.3', '0.0.3', true],
    ['^0.0.3', '0.0.4', false],
    ['^1.2.0', '1.9.9', true],
    ['^1.2.0', '2.0.0', false],
    ['*', '0.1.0', false],
    ['0.1.0', '0.1.0', false],
  ])('%s with %s -> %s', (range, version, want) => expect(caret_satisfies(range, version)).toBe(want));
});

describe('publishable_packages', () => {
  it('puts every package after its internal dependencies', () => {
    const order = publishable_packages();
    const at = new Map(order.map((p, i) => [p.name, i]));
    expect(order.length).toBeGreaterThan(10);
    for (const p of order) for (const d of p.internal) expect(at.get(d)!, `${d} before ${p.name}`).toBeLessThan(at.get(p.name)!);
    expect(order.some((p) => p.name === '@foliolab/cli')).toBe(true);
  });
});

/** A tiny publishable package in a fake repository, built by hand (an index.js and its .d.ts). */
function fixture(root: string, name: string, patch: (j: PackageJson) => void = () => undefined): WorkspacePackage {
  const dir = join(root, 'packages', name);
  mkdirSync(join(dir, 'dist'), { recursive: true });
  const json: PackageJson = {
    name: `@foliolab/${name}`,
    version: '0.1.0',
    description: 'A fixture package for the release checks of foliolab.',
    license: 'MIT',
    type: 'module',
    repository: { type: 'git', url: 'git+https://github.com/foliolab/foliolab.git', directory: `packages/${name}` },
    keywords: ['fixture'],
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: { './package.json': './package.json', '.': { types: './dist/index.d.ts', import: './dist/index.js', default: './dist/index.js' } },
    files: ['dist'],
    sideEffects: false,
    engines: { node: '>=20.19.0' },
    publishConfig: { access: 'public' },
  };
  patch(json);
  writeFileSync(join(dir, 'package.json'), JSON.stringify(json, null, 2));
  writeFileSync(join(dir, 'dist/index.js'), 'export const answer = 42;\n');
  writeFileSync(join(dir, 'dist/index.d.ts'), 'export declare const answer = 42;\n');
  writeFileSync(join(dir, 'README.md'), '# fixture\n');
  writeFileSync(join(dir, 'LICENSE'), 'MIT fixture licence\n');
  return { name: json.name, version: json.version, dir, json, internal: Object.keys(json.dependencies ?? {}).filter((d) => d.startsWith('@foliolab/')) };
}

describe('check_one on hand-made packages', () => {
  let root: string;
  let packDir: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'foliolab-release-fixture-'));
    packDir = join(root, 'packs');
    mkdirSync(packDir);
    writeFileSync(join(root, 'LICENSE'), 'MIT fixture licence\n');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('passes a complete package', async () => {
    const p = fixture(root, 'good');
    expect(await check_one(p, packDir, [p], root)).toEqual([]);
  }, 60_000);

  it('reports missing metadata, a wrong internal range, a missing LICENSE and types that are not shipped', async () => {
    const dep = fixture(root, 'dep');
    const p = fixture(root, 'bad', (j) => {
      delete j.keywords;
      delete j.publishConfig;
      j.license = 'ISC';
      j.dependencies = { '@foliolab/dep': '*' };
      (j.exports as Record<string, Record<string, string>>)['.']!.types = './dist/missing.d.ts';
    });
    unlinkSync(join(p.dir, 'LICENSE'));
    const problems = await check_one(p, packDir, [dep, p], root);
    const has = (re: RegExp) => expect(problems.some((x) => re.test(x)), `${re} in\n${problems.join('\n')}`).toBe(true);
    has(/^keywords: missing/);
    has(/^publishConfig\.access/);
    has(/^license: "ISC"/);
    has(/^dependencies\.@foliolab\/dep: "\*" is not a caret range/);
    has(/LICENSE: missing/);
    has(/^the tarball has no LICENSE/);
    has(/^publint .*missing\.d\.ts/);
    has(/^attw: /);
  }, 60_000);
});
