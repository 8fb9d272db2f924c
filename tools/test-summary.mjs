// Prints one closing line, "N passed, N failed", over every jest JSON report in the folder given.
//   node tools/test-summary.mjs DIR [REPORT.json ...]   (the reports named must be there: a lane that
//                                                        wrote none counts as failed, not as zero tests)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, ...expected] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let pending = 0;
const missing = expected.filter((f) => !existsSync(join(dir, f)));
for (const file of missing) console.log(`${file}: missing (that lane wrote no jest report)`);
for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const report = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  pending += report.numPendingTests + (report.numTodoTests ?? 0);
  console.log(`${file}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
}
// Skipped tests count as failures here: nothing in this repository is allowed to skip.
console.log(`tests: ${passed} passed, ${failed + pending} failed${missing.length ? `, ${missing.length} report(s) missing` : ''}`);
process.exit(failed + pending > 0 || missing.length ? 1 : 0);
