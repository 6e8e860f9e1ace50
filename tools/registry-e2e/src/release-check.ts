/**
 * `npm run release:check` (after a build): for every publishable package, check the publishing
 * metadata, pack it exactly as `npm publish` would, then lint the tarball with publint (strict:
 * warnings fail) and check its types with @arethetypeswrong/cli (profile esm-only: every package
 * is ESM-only, so the CommonJS resolutions are not applicable). Prints one line per problem and
 * exits 1 if any package has one. Usage: release-check [--keep DIR] [package-name...]
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT, publishable_packages } from './workspace.js';
import { check_one } from './release.js';

async function main(argv: string[]): Promise<number> {
  let keep: string | undefined;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--keep') keep = argv[++i];
    else only.push(argv[i]!);
  }
  const all = publishable_packages();
  const unknown = only.filter((n) => !all.some((p) => p.name === n));
  if (unknown.length) {
    process.stderr.write(`release-check: ${unknown[0]}: not a publishable package (known: ${all.map((p) => p.name).join(', ')})\n`);
    return 2;
  }
  const missingBuild = all.filter((p) => !existsSync(join(p.dir, 'dist')));
  if (missingBuild.length) {
    process.stderr.write(`release-check: ${relative(ROOT, missingBuild[0]!.dir)}/dist: not built; run \`npx nx run-many -t build\` first\n`);
    return 2;
  }
  const packDir = keep ?? mkdtempSync(join(tmpdir(), 'foliolab-release-check-'));
  let failed = 0;
  try {
    for (const p of all.filter((x) => only.length === 0 || only.includes(x.name))) {
      const t0 = Date.now();
      const problems = await check_one(p, packDir, all);
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      if (problems.length === 0) process.stdout.write(`ok   ${p.name}@${p.version} (${secs} s)\n`);
      else {
        failed++;
        process.stdout.write(`FAIL ${p.name}@${p.version}\n${problems.map((x) => `     - ${x}`).join('\n')}\n`);
      }
    }
  } finally {
    if (!keep) rmSync(packDir, { recursive: true, force: true });
  }
  process.stdout.write(failed ? `release-check: ${failed} package(s) have problems\n` : 'release-check: every package passes publint and attw\n');
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
