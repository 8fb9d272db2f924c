/**
 * Test support: build the real accountservice binary (static linux/amd64), optionally from a patched
 * copy of its source, so integration tests can produce "a new version" without touching the repo.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';

export const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');
export const ACCOUNTSERVICE_DIR = path.join(WORKSPACE_ROOT, 'accountservice');

export interface BuildAccountserviceOptions {
  /** Edit a copy of the source before building (e.g. change a response for a "new version"). */
  patch?: (srcDir: string) => void;
  /** Also copy the Dockerfile, .dockerignore and docker/ folder next to the binary. */
  withDockerContext?: boolean;
  /** GOARCH (default amd64): the binary is `accountservice-linux-GOARCH`. */
  goarch?: string;
}

function copySource(from: string, to: string): void {
  fs.cpSync(from, to, {
    recursive: true,
    filter: (src) => !/accountservice-[a-z0-9]+-[a-z0-9]+$/.test(src) && !src.endsWith('.db'),
  });
}

/** Builds `outDir/accountservice-linux-amd64` (or the `goarch` given) and returns its path. */
export async function buildAccountserviceBinary(outDir: string, opts: BuildAccountserviceOptions = {}): Promise<string> {
  fs.mkdirSync(outDir, { recursive: true });
  let srcDir = ACCOUNTSERVICE_DIR;
  let tmp: string | undefined;
  if (opts.patch) {
    // The copy keeps the workspace layout: accountservice's go.mod replaces the shared module with
    // ../libs/go/common (and no go.work is above the temp folder, so that replace is what Go uses).
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nxswarm-acc-src-'));
    srcDir = path.join(tmp, 'accountservice');
    copySource(ACCOUNTSERVICE_DIR, srcDir);
    fs.mkdirSync(path.join(tmp, 'libs/go'), { recursive: true });
    fs.symlinkSync(path.join(WORKSPACE_ROOT, 'libs/go/common'), path.join(tmp, 'libs/go/common'));
    opts.patch(srcDir);
  }
  const goarch = opts.goarch ?? 'amd64';
  const binary = path.join(outDir, `accountservice-linux-${goarch}`);
  try {
    await execa('go', ['build', '-trimpath', '-buildvcs=false', '-ldflags=-s -w -buildid=', '-o', binary, '.'], {
      cwd: srcDir,
      env: { CGO_ENABLED: '0', GOOS: 'linux', GOARCH: goarch, GOTOOLCHAIN: 'local' },
      stdio: 'inherit',
    });
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (opts.withDockerContext) {
    for (const name of ['Dockerfile', '.dockerignore', 'docker']) {
      const src = path.join(ACCOUNTSERVICE_DIR, name);
      if (fs.existsSync(src)) fs.cpSync(src, path.join(outDir, name), { recursive: true });
    }
  }
  return binary;
}

/** Replaces text in a file of a patched source tree; fails loudly when the text is not there. */
export function replaceInFile(file: string, from: string | RegExp, to: string): void {
  const before = fs.readFileSync(file, 'utf8');
  const after = before.replace(from, to);
  if (after === before) throw new Error(`replaceInFile: ${String(from)} not found in ${file}`);
  fs.writeFileSync(file, after);
}

/** A patch of the accountservice source: this version answers with its own names ("PersonV2_0"), so bodies show who served. */
export const renamePeople = (prefix: string) => (src: string) =>
  replaceInFile(path.join(src, 'internal/dbclient/dbclient.go'), '"Person_" + strconv.Itoa(i)', `"${prefix}" + strconv.Itoa(i)`);
