// Prints the gzipped size of dist/px.js and fails above the 15 KB budget:
// every page that loads PX pays this.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export const BUDGET_BYTES = 15 * 1024;

export function gzippedSize(path = new URL('../dist/px.js', import.meta.url)) {
  return gzipSync(readFileSync(path), { level: 9 }).length;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const size = gzippedSize();
  const raw = readFileSync(new URL('../dist/px.js', import.meta.url)).length;
  console.log(`dist/px.js: ${raw} bytes, ${size} bytes gzipped (${(size / 1024).toFixed(1)} KB; budget 15 KB)`);
  if (size > BUDGET_BYTES) {
    console.error(`over budget by ${size - BUDGET_BYTES} bytes`);
    process.exit(1);
  }
}
