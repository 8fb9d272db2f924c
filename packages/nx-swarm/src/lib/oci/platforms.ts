/**
 * Platforms: which ones an image index holds (for swarm's Placement.Platforms), which ones the
 * build target's matrix makes, and which binary of that matrix belongs to which platform. Pure.
 */
import { Platform, formatPlatform, parsePlatform } from './dockerfile';
import { PlacementPlatform, placementPlatform } from './placement';

export type { PlacementPlatform } from './placement';

interface IndexLike {
  schemaVersion?: number;
  manifests?: Array<{ platform?: { os?: string; architecture?: string; variant?: string }; annotations?: Record<string, string> }>;
}

/**
 * The platforms an image index (or Docker manifest list) holds, for `Placement.Platforms`: one per
 * os/architecture (variants collapse: swarm matches on these two; 32-bit arm as
 * {@link placementPlatform} has it), in index order. Attestation manifests ("unknown/unknown") are
 * skipped. A single-platform manifest gives [].
 */
export function indexPlatforms(index: IndexLike): PlacementPlatform[] {
  const seen = new Set<string>();
  const out: PlacementPlatform[] = [];
  for (const m of index.manifests ?? []) {
    const os = m.platform?.os;
    const arch = m.platform?.architecture;
    if (!os || !arch || os === 'unknown' || arch === 'unknown') continue;
    if (m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') continue;
    const entry = placementPlatform(os, arch);
    const key = `${entry.OS}/${entry.Architecture}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(entry);
  }
  return out;
}

/** "linux/arm/v7" → "linux-armv7" (go-cross-build's `{name}-{os}-{arch}[variant]`). */
export function binarySuffix(platform: Platform): string {
  return `${platform.os}-${platform.architecture}${platform.variant ?? ''}`;
}

const SUFFIX_RE = /-linux-(amd64|arm64|armv[5-7]|arm|386|ppc64le|ppc64|s390x|riscv64|mips64le|mips64|mipsle|mips|loong64)(v[1-4])?$/;

/**
 * The `from` of a files entry for a platform: a build output named `…-linux-<arch>` takes that
 * platform's binary; anything else is the same for every platform.
 */
export function fileForPlatform(from: string, platform: Platform): string {
  if (!SUFFIX_RE.test(from)) return from;
  return from.replace(SUFFIX_RE, `-${binarySuffix(platform)}`);
}

/** The linux entries of a go-cross-build matrix ("linux/amd64", "linux/arm/v7", "darwin/arm64" …). */
export function linuxPlatformsOf(matrix: unknown): string[] {
  if (!Array.isArray(matrix)) return [];
  return [...new Set(matrix.filter((t): t is string => typeof t === 'string' && t.startsWith('linux/')).map((t) => t.trim()))];
}

/** Does the engine's platform match one of these? (variant ignored unless both name one) */
export function matchPlatform(wanted: Platform, available: Platform[]): Platform | undefined {
  return (
    available.find((p) => p.os === wanted.os && p.architecture === wanted.architecture && (p.variant ?? '') === (wanted.variant ?? '')) ??
    available.find((p) => p.os === wanted.os && p.architecture === wanted.architecture)
  );
}

/** Normalises the engine's own words: `uname -m` style (x86_64, aarch64) → GOARCH. */
export function engineArchitecture(arch: string): string {
  const map: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64', armv7l: 'arm', i386: '386', i686: '386' };
  return map[arch] ?? arch;
}

export { formatPlatform, parsePlatform };
