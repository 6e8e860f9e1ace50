/**
 * The chart library, inlined: the minified browser builds of vega, vega-lite and vega-embed, read from
 * node_modules when a report is rendered (so the report pins whatever versions this package installed).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ReportError } from './errors.js';

/** Load order matters: vega-lite's UMD build reads the vega global, vega-embed reads both. */
export const VENDOR_PACKAGES = ['vega', 'vega-lite', 'vega-embed'] as const;

export interface VendorScript {
  name: string;
  version: string;
  /** Path of the file inside the package, e.g. build/vega.min.js. */
  file: string;
  code: string;
}

let cache: VendorScript[] | undefined;

function package_json_of(name: string): { dir: string; pkg: Record<string, unknown> } {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch (e) {
    throw new ReportError(`report: cannot find the chart library package "${name}" (install @foliolab/report's dependencies): ${(e as Error).message.split('\n')[0]}`);
  }
  // The entry sits somewhere inside the package (build/...); walk up to the package.json that names it.
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      if (pkg.name === name) return { dir, pkg };
    } catch {
      // no package.json at this level
    }
    if (dirname(dir) === dir) throw new ReportError(`report: no package.json named "${name}" above ${entry}`);
  }
}

/** The three builds, read once per process. Throws ReportError if one is missing or cannot be inlined. */
export function vendor_scripts(): VendorScript[] {
  if (cache) return cache;
  cache = VENDOR_PACKAGES.map((name) => {
    const { dir, pkg } = package_json_of(name);
    // unpkg/jsdelivr name the self-contained UMD build that registers a global (vega, vegaLite, vegaEmbed).
    const file = String(pkg.unpkg ?? pkg.jsdelivr ?? '');
    if (!file.endsWith('.js')) throw new ReportError(`report: package "${name}" names no browser build (unpkg/jsdelivr field)`);
    const code = readFileSync(join(dir, file), 'utf8');
    // An HTML parser ends a <script> at "</script" and changes state at "<!--"; neither may appear raw.
    if (code.includes('<!--')) throw new ReportError(`report: ${name}/${file} contains "<!--", which cannot be inlined in a <script> element safely`);
    return { name, version: String(pkg.version), file, code: code.replace(/<\/(script)/gi, '<\\/$1') };
  });
  return cache;
}
