// Rebuilds into a temporary directory and fails if the committed dist/
// differs: the Rust server embeds dist/px.js, so it must match the source.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const fresh = mkdtempSync(join(tmpdir(), 'px-dist-'));

function files(dir) {
  let dirEntries;
  try {
    dirEntries = readdirSync(dir);
  } catch {
    return [];
  }
  return dirEntries.flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

try {
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), fresh], { stdio: 'inherit' });
  const want = files(fresh).map((f) => relative(fresh, f)).sort();
  const have = files(dist).map((f) => relative(dist, f)).sort();
  const problems = [];
  for (const f of new Set([...want, ...have])) {
    if (!want.includes(f)) problems.push(`dist/${f} is not built any more`);
    else if (!have.includes(f)) problems.push(`dist/${f} is missing`);
    else if (!readFileSync(join(fresh, f)).equals(readFileSync(join(dist, f)))) problems.push(`dist/${f} differs`);
  }
  if (problems.length) {
    console.error(problems.join('\n') + '\ndist/ is stale: run `npm run build` and commit dist/');
    process.exit(1);
  }
  console.log(`dist/ matches the source (${want.length} files)`);
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
