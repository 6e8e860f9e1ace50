import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tools/registry-e2e/src -> ../../..). */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  bin?: Record<string, string>;
  files?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

export interface WorkspacePackage {
  name: string;
  version: string;
  dir: string;
  json: PackageJson;
  /** Internal (@foliolab/*) runtime dependencies. */
  internal: string[];
}

export function package_json_read(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/**
 * Every publishable package of the workspace (packages/* and apps/*, not private), in dependency
 * order: each package comes after every internal package it depends on at runtime, so publishing
 * in this order never publishes a package whose dependency is not on the registry yet.
 * Ties are broken by name, so the order is deterministic.
 */
export function publishable_packages(root = ROOT): WorkspacePackage[] {
  const all: WorkspacePackage[] = [];
  for (const top of ['packages', 'apps']) {
    if (!existsSync(join(root, top))) continue;
    for (const d of readdirSync(join(root, top)).sort()) {
      const dir = join(root, top, d);
      if (!existsSync(join(dir, 'package.json'))) continue;
      const json = package_json_read(dir);
      if (json.private) continue;
      const deps = { ...json.dependencies, ...json.peerDependencies, ...json.optionalDependencies };
      all.push({ name: json.name, version: json.version, dir, json, internal: Object.keys(deps).filter((n) => n.startsWith('@foliolab/')).sort() });
    }
  }
  const byName = new Map(all.map((p) => [p.name, p]));
  const out: WorkspacePackage[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (p: WorkspacePackage, path: string[]): void => {
    const s = state.get(p.name);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`dependency cycle between publishable packages: ${[...path, p.name].join(' -> ')}`);
    state.set(p.name, 'visiting');
    for (const dep of p.internal) {
      const q = byName.get(dep);
      if (!q) throw new Error(`${p.name} depends on ${dep}, which is not a publishable workspace package`);
      visit(q, [...path, p.name]);
    }
    state.set(p.name, 'done');
    out.push(p);
  };
  for (const p of [...all].sort((a, b) => a.name.localeCompare(b.name))) visit(p, []);
  return out;
}
