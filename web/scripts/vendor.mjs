// Copies Leaflet's distributed files from node_modules into public/vendor so
// that the server embeds them: the Rust build and the visitors' browsers
// never need npm or a CDN. Run after `npm ci` whenever package-lock.json
// changes: `node scripts/vendor.mjs`.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = join(root, 'node_modules', 'leaflet');
if (!existsSync(pkgDir)) {
  console.error('node_modules/leaflet is missing: run `npm ci` in web/ first');
  process.exit(1);
}
const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const locked = lock.packages?.['node_modules/leaflet']?.version;
if (locked !== version) {
  console.error(`installed leaflet ${version} differs from the lockfile's ${locked}: run \`npm ci\``);
  process.exit(1);
}

const out = join(root, 'public', 'vendor', 'leaflet');
// A clean copy, so a file dropped upstream does not linger here.
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// The ES module build lets the pages stay plain modules without a bundler.
const files = ['leaflet-src.esm.js', 'leaflet.css'];
for (const f of files) cpSync(join(pkgDir, 'dist', f), join(out, f));
cpSync(join(pkgDir, 'dist', 'images'), join(out, 'images'), { recursive: true });
cpSync(join(pkgDir, 'LICENSE'), join(out, 'LICENSE'));
// The source map comment points at a file we do not ship; browsers would ask for it.
const esm = join(out, 'leaflet-src.esm.js');
writeFileSync(esm, readFileSync(esm, 'utf8').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n'));
writeFileSync(join(out, 'VERSION'), `leaflet ${version}\n`);
console.log(`vendored leaflet ${version} into ${out}`);
