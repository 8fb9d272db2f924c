// node --test tools/test-summary.test.mjs: the closing line and exit code of tools/test-summary.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(import.meta.dirname, 'test-summary.mjs');
const report = (passed, failed = 0, pending = 0) => ({ numPassedTests: passed, numFailedTests: failed, numPendingTests: pending, numTodoTests: 0 });

const cases = [
  {
    name: 'every named report there, all passed',
    reports: { 'a.json': report(3), 'b.json': report(2) },
    expect: ['a.json', 'b.json'],
    code: 0,
    last: 'tests: 5 passed, 0 failed',
  },
  { name: 'a failed test', reports: { 'a.json': report(3, 1) }, expect: ['a.json'], code: 1, last: 'tests: 3 passed, 1 failed' },
  { name: 'a skipped test counts as failed', reports: { 'a.json': report(3, 0, 1) }, expect: ['a.json'], code: 1, last: 'tests: 3 passed, 1 failed' },
  {
    name: 'a named report missing (a lane that wrote none)',
    reports: { 'a.json': report(3) },
    expect: ['a.json', 'lab.json'],
    code: 1,
    last: 'tests: 3 passed, 0 failed, 1 report(s) missing',
  },
  { name: 'nothing named: whatever is there', reports: { 'a.json': report(1) }, expect: [], code: 0, last: 'tests: 1 passed, 0 failed' },
];

for (const c of cases) {
  test(c.name, () => {
    const dir = mkdtempSync(join(tmpdir(), 'test-summary-'));
    for (const [file, body] of Object.entries(c.reports)) writeFileSync(join(dir, file), JSON.stringify(body));
    const r = spawnSync(process.execPath, [SCRIPT, dir, ...c.expect], { encoding: 'utf8' });
    assert.equal(r.status, c.code, r.stdout + r.stderr);
    assert.equal(r.stdout.trim().split('\n').pop(), c.last);
    if (c.expect.some((f) => !(f in c.reports))) assert.match(r.stdout, /lab\.json: missing/);
  });
}
