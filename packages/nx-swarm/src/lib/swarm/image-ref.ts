/** Which image to deploy: explicit, or the image target's receipt (pinned when pushed). Pure. */
import type { ImageReceipt } from '../docker/image-receipt';
import { placementPlatform } from '../oci/placement';

export interface ChosenImage {
  /** What goes into the service spec. */
  ref: string;
  /** Refs to try for the local existence check, in order. */
  localRefs: string[];
  source: 'option' | 'receipt';
  pushed: boolean;
  receipt?: ImageReceipt;
}

/** "repo@sha256:…" or "sha256:…" → "sha256:…" */
export function digestOf(registryDigest: string): string | undefined {
  const m = /(sha256:[a-f0-9]{64})$/.exec(registryDigest);
  return m?.[1];
}

export function chooseImage(explicit: string | undefined, receipt: ImageReceipt | undefined): ChosenImage | undefined {
  if (explicit) return { ref: explicit, localRefs: [explicit], source: 'option', pushed: /@sha256:/.test(explicit) };
  if (!receipt) return undefined;
  const digest = receipt.pushed && receipt.registryDigest ? digestOf(receipt.registryDigest) : undefined;
  if (digest) {
    return {
      ref: `${receipt.contentRef}@${digest}`,
      localRefs: [`${receipt.repository}@${digest}`, receipt.contentRef, receipt.imageId],
      source: 'receipt',
      pushed: true,
      receipt,
    };
  }
  return { ref: receipt.contentRef, localRefs: [receipt.contentRef], source: 'receipt', pushed: false, receipt };
}

/**
 * Placement.Platforms for a receipt of a pushed image index (the OCI builder's multi-arch push): one
 * { Architecture, OS } per platform. [] otherwise (a single image, or an explicit reference).
 * 32-bit arm ("linux/arm/v7") leaves the architecture empty (placementPlatform, lib/oci/placement.ts).
 */
export function placementPlatforms(image: ChosenImage): { Architecture: string; OS: string }[] {
  const receipt = image.receipt;
  if (!image.pushed || !receipt?.indexDigest || !receipt.platforms?.length) return [];
  const seen = new Set<string>();
  const out: { Architecture: string; OS: string }[] = [];
  for (const { platform } of receipt.platforms) {
    const [os, arch] = platform.split('/');
    if (!os || arch === undefined) continue;
    const entry = placementPlatform(os, arch);
    if (seen.has(`${entry.OS}/${entry.Architecture}`)) continue;
    seen.add(`${entry.OS}/${entry.Architecture}`);
    out.push(entry);
  }
  return out;
}
