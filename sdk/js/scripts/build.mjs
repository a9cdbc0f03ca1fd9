// Builds dist/: px.js (IIFE, minified, global `PX`: what pages load and
// what the PX server embeds), px.mjs (ESM, for bundlers) and types/.
// `node scripts/build.mjs OUTDIR` builds elsewhere (check-dist uses it).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'dist'));
rmSync(out, { recursive: true, force: true });

const common = {
  absWorkingDir: root,
  entryPoints: ['src/index.ts'],
  bundle: true,
  target: 'es2020',
  legalComments: 'none',
  logLevel: 'warning',
};
await build({ ...common, format: 'iife', globalName: 'PX', minify: true, outfile: join(out, 'px.js') });
await build({ ...common, format: 'esm', outfile: join(out, 'px.mjs') });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(out, 'types')], {
  cwd: root,
  stdio: 'inherit',
});
