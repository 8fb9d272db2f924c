/**
 * build.json: what go-cross-build produced. Deterministic (no timestamps), so identical sources give
 * an identical manifest and Nx can cache the whole output folder.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GoBuildStep } from './cross-build-plan';

export interface BuildManifestEntry {
  file: string;
  os: string;
  arch: string;
  variant?: string;
  size: number;
  sha256: string;
}

export interface BuildManifest {
  goVersion: string;
  cgo: boolean;
  binaries: BuildManifestEntry[];
}

export const BUILD_MANIFEST_FILE = 'build.json';

export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export function manifestFor(steps: GoBuildStep[], goVersion: string, cgo: boolean): BuildManifest {
  return {
    goVersion,
    cgo,
    binaries: steps.map((step) => ({
      file: path.basename(step.output),
      os: step.target.goos,
      arch: step.target.goarch,
      ...(step.target.variant ? { variant: step.target.variant } : {}),
      size: fs.statSync(step.output).size,
      sha256: sha256File(step.output),
    })),
  };
}

export function writeManifest(outputDir: string, manifest: BuildManifest): string {
  const file = path.join(outputDir, BUILD_MANIFEST_FILE);
  fs.writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n');
  return file;
}
