/**
 * GOOS/GOARCH target strings ("linux/amd64", "linux/arm/v7", "windows/amd64") and the file names
 * they produce. Pure.
 */

export interface GoTarget {
  /** As the user wrote it, e.g. "linux/arm/v7". */
  id: string;
  goos: string;
  goarch: string;
  /** ARM variant ("5" | "6" | "7") → GOARM, or amd64 level ("v2" | "v3" | "v4") → GOAMD64. */
  variant?: string;
}

const TARGET_RE = /^([a-z0-9]+)\/([a-z0-9]+)(?:\/(v[0-9]+))?$/;

/** Parses "os/arch[/variant]"; throws a message naming the accepted shape. */
export function parseTarget(id: string): GoTarget {
  const m = TARGET_RE.exec(id.trim());
  if (!m) {
    throw new Error(
      `"${id}" is not a Go target. Write GOOS/GOARCH, optionally with a variant: linux/amd64, linux/arm64, linux/arm/v7, darwin/arm64, windows/amd64.`,
    );
  }
  const [, goos, goarch, variant] = m;
  if (variant) {
    if (goarch === 'arm' && !['v5', 'v6', 'v7'].includes(variant)) {
      throw new Error(`"${id}": GOARM must be v5, v6 or v7.`);
    }
    if (goarch === 'amd64' && !['v1', 'v2', 'v3', 'v4'].includes(variant)) {
      throw new Error(`"${id}": GOAMD64 must be v1, v2, v3 or v4.`);
    }
    if (goarch !== 'arm' && goarch !== 'amd64') {
      throw new Error(`"${id}": a variant is only meaningful for arm (v5..v7) and amd64 (v1..v4).`);
    }
  }
  return { id: id.trim(), goos, goarch, variant };
}

/** The environment that selects a target for `go build`. */
export function targetEnv(target: GoTarget): Record<string, string> {
  const env: Record<string, string> = { GOOS: target.goos, GOARCH: target.goarch };
  if (target.variant && target.goarch === 'arm') env.GOARM = target.variant.slice(1);
  if (target.variant && target.goarch === 'amd64') env.GOAMD64 = target.variant;
  return env;
}

/** `{binaryName}-{os}-{arch}[variant][.exe]`, e.g. accountservice-linux-armv7, app-windows-amd64.exe */
export function binaryFileName(binaryName: string, target: GoTarget): string {
  const arch = target.variant ? `${target.goarch}${target.variant}` : target.goarch;
  return `${binaryName}-${target.goos}-${arch}${target.goos === 'windows' ? '.exe' : ''}`;
}

/** Checks targets against `go tool dist list` ("linux/amd64" lines); returns the unknown ones. */
export function unknownTargets(targets: GoTarget[], distList: string[]): GoTarget[] {
  const known = new Set(distList.map((l) => l.trim()).filter(Boolean));
  return targets.filter((t) => !known.has(`${t.goos}/${t.goarch}`));
}
