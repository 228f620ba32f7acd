// Validates every GeoJSON document in a folder with two independent
// RFC 7946 checkers: @placemarkio/check-geojson (structure, positions,
// ring closure) and @mapbox/geojsonhint (also the right-hand rule for
// polygon winding). Exits non-zero, naming file and problem, on any issue.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { check } from '@placemarkio/check-geojson';
import geojsonhint from '@mapbox/geojsonhint';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node validate.mjs FOLDER');
  process.exit(2);
}
const files = readdirSync(dir).filter((f) => f.endsWith('.geojson'));
if (files.length === 0) {
  console.error(`no GeoJSON samples in ${dir}: the API tests did not write any`);
  process.exit(1);
}
let failed = 0;
for (const file of files) {
  const text = readFileSync(join(dir, file), 'utf8');
  const problems = [];
  try {
    check(text);
  } catch (e) {
    const issues = e.issues ?? [{ message: e.message }];
    for (const i of issues) problems.push(`check-geojson: ${i.message}`);
  }
  for (const h of geojsonhint.hint(text, { precisionWarning: false })) {
    problems.push(`geojsonhint: ${h.message}`);
  }
  if (problems.length > 0) {
    failed += 1;
    console.error(`${file}:\n  ${problems.slice(0, 5).join('\n  ')}`);
  }
}
const passed = files.length - failed;
console.log(`GeoJSON validation: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
