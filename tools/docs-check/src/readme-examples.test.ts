import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** The README's example: the first ```ts block that imports a @foliolab package. */
function example_of(readme: string): string | undefined {
  for (const m of readme.matchAll(/```ts\n([\s\S]*?)```/g)) if (/from '@foliolab\//.test(m[1]!)) return m[1];
  return undefined;
}

const dirs = ['packages', 'apps'].flatMap((top) =>
  existsSync(join(ROOT, top)) ? readdirSync(join(ROOT, top)).map((d) => join(ROOT, top, d)).filter((d) => existsSync(join(d, 'package.json'))) : [],
);
const publishable = dirs.filter((d) => !JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).private);

describe('every publishable package has a README with an example that runs', () => {
  for (const dir of publishable) {
    const name = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name as string;
    it(name, () => {
      const readmePath = join(dir, 'README.md');
      expect(existsSync(readmePath), `${name} has no README.md`).toBe(true);
      const code = example_of(readFileSync(readmePath, 'utf8'));
      expect(code, `${name}'s README has no \`\`\`ts example importing a @foliolab package`).toBeDefined();
      // Inside the package folder, so that workspace packages resolve as they would for a user.
      const file = join(dir, `.readme-example-${process.pid}.ts`);
      writeFileSync(file, code!);
      try {
        const r = spawnSync(process.execPath, ['--conditions=@foliolab/source', '--import', TSX, file], { cwd: dir, encoding: 'utf8', timeout: 110000 });
        expect(r.status, `${name} README example failed:\n${r.stderr}`).toBe(0);
      } finally {
        rmSync(file, { force: true });
      }
    });
  }
});
