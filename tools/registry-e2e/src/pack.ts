import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, type WorkspacePackage } from './workspace.js';

/** npm without the host's user config (its noise and its settings stay out of our runs). */
export function npm_env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** Does `version` satisfy the caret range `range` (^X.Y.Z, semver's rule for 0.x included)? */
export function caret_satisfies(range: string, version: string): boolean {
  const r = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  const v = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!r || !v) return false;
  const [R, V] = [r.slice(1).map(Number), v.slice(1).map(Number)] as [number[], number[]];
  const cmp = V[0]! - R[0]! || V[1]! - R[1]! || V[2]! - R[2]!;
  if (cmp < 0) return false;
  if (R[0]! > 0) return V[0] === R[0];
  if (R[1]! > 0) return V[0] === 0 && V[1] === R[1];
  return V[0] === 0 && V[1] === 0 && V[2] === R[2];
}

/** The publishing fields every package must have; one line per problem. */
export function metadata_problems(p: WorkspacePackage, all: readonly WorkspacePackage[], root = ROOT): string[] {
  const j = p.json;
  const out: string[] = [];
  const where = relative(root, p.dir);
  if (!/^@foliolab\/[a-z0-9-]+$/.test(j.name)) out.push(`name: "${j.name}" is not @foliolab/<kebab-case>`);
  if (!/^\d+\.\d+\.\d+/.test(j.version ?? '')) out.push(`version: "${j.version}" is not semver`);
  if (typeof j.description !== 'string' || j.description.length < 20) out.push('description: missing or too short');
  if (j.license !== 'MIT') out.push(`license: "${j.license}", expected "MIT"`);
  const repo = j.repository as { type?: string; url?: string; directory?: string } | undefined;
  if (repo?.type !== 'git' || !repo.url) out.push('repository: needs { type: "git", url }');
  if (repo?.directory !== where) out.push(`repository.directory: "${repo?.directory}", expected "${where}"`);
  if (!Array.isArray(j.keywords) || j.keywords.length === 0) out.push('keywords: missing');
  if (j.type !== 'module') out.push('type: must be "module" (the packages are ESM-only)');
  const dot = (j.exports as Record<string, Record<string, string>> | undefined)?.['.'];
  if (!dot?.types || !dot.import) out.push('exports["."]: needs "types" and "import"');
  if (!(j.exports as Record<string, unknown> | undefined)?.['./package.json']) out.push('exports["./package.json"]: missing');
  if (!Array.isArray(j.files) || j.files.length === 0) out.push('files: missing');
  if (typeof j.sideEffects !== 'boolean' && !Array.isArray(j.sideEffects)) out.push('sideEffects: missing');
  if (!(j.engines as Record<string, string> | undefined)?.node) out.push('engines.node: missing');
  if ((j.publishConfig as Record<string, string> | undefined)?.access !== 'public') out.push('publishConfig.access: must be "public" (scoped packages are private by default)');
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies'] as const) {
    for (const [dep, range] of Object.entries((j[field] as Record<string, string> | undefined) ?? {})) {
      if (!dep.startsWith('@foliolab/')) continue;
      const q = all.find((x) => x.name === dep);
      if (!q) out.push(`${field}.${dep}: not a publishable workspace package`);
      else if (!caret_satisfies(range, q.version)) out.push(`${field}.${dep}: "${range}" is not a caret range satisfied by the workspace's ${q.version}`);
    }
  }
  const license = join(p.dir, 'LICENSE');
  if (!existsSync(license)) out.push(`${where}/LICENSE: missing (copy the root LICENSE; npm packs only files inside the package)`);
  else if (readFileSync(license, 'utf8') !== readFileSync(join(root, 'LICENSE'), 'utf8')) out.push(`${where}/LICENSE: differs from the root LICENSE`);
  if (!existsSync(join(p.dir, 'README.md'))) out.push(`${where}/README.md: missing`);
  for (const [bin, file] of Object.entries(j.bin ?? {})) {
    const f = join(p.dir, file);
    if (!existsSync(f)) out.push(`bin.${bin}: ${file} does not exist (not built?)`);
    else if (!readFileSync(f, 'utf8').startsWith('#!/usr/bin/env node')) out.push(`bin.${bin}: ${file} has no "#!/usr/bin/env node" line`);
  }
  return out;
}

/** `npm pack` the package into `dest` (what `npm publish` would upload); returns the tarball's path. */
export function pack_package(p: WorkspacePackage, dest: string): string {
  const r = spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dest], { cwd: p.dir, encoding: 'utf8', env: npm_env() });
  if (r.status !== 0) throw new Error(`npm pack ${p.name} failed: ${r.stderr.trim().split('\n').pop()}`);
  const info = JSON.parse(r.stdout) as Array<{ filename: string }>;
  return join(dest, info[0]!.filename);
}

/** Paths inside a tarball, without the leading "package/". */
export function tarball_files(tarball: string): string[] {
  const r = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar -tzf ${tarball}: ${r.stderr.trim()}`);
  return r.stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
}
