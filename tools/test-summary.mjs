// Prints one closing line, "N passed, N failed", over every jest JSON report in the folder given.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let pending = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const report = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  pending += report.numPendingTests + (report.numTodoTests ?? 0);
  console.log(`${file}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
}
// Skipped tests count as failures here: nothing in this repository is allowed to skip.
console.log(`tests: ${passed} passed, ${failed + pending} failed`);
process.exit(failed + pending > 0 ? 1 : 0);
