/**
 * The receipt the docker-image executor writes to `dist/{projectRoot}/image.json` and the
 * swarm-deploy executor reads. It names what exists in the daemon (and registry); the deployer
 * verifies that it still exists before using it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ImageReceipt {
  /** e.g. "someprefix/accountservice" or "127.0.0.1:5000/accountservice" */
  repository: string;
  /** Convenience tags that were moved to this image, e.g. ["latest"] */
  tags: string[];
  /** The content-addressed tag, e.g. "c-3f9a2b1c4d5e" */
  contentTag: string;
  /** repository:contentTag */
  contentRef: string;
  /** The content digest over the build context, Dockerfile, build args, target and platform (sha256 hex). */
  contentDigest: string;
  /** The daemon's image id, "sha256:…" */
  imageId: string;
  /** Image size in bytes as reported by the daemon. */
  size: number;
  /** Whether the image was pushed to a registry. */
  pushed: boolean;
  /** "repo@sha256:…" when pushed. */
  registryDigest?: string;
  /** Whether this run built the image (false: it already existed). */
  built: boolean;
  /** Convenience tags this run moved onto the image in the engine (they were missing or elsewhere). */
  tagsMoved?: string[];
  /** ISO time the receipt was written. */
  createdAt: string;
  /** Which builder made the image ("oci": in process; "engine": the daemon's classic builder), and why. */
  builder?: 'oci' | 'engine';
  builderReason?: string;
  /** OCI builder: the image index digest ("sha256:…"), computed also when only loading. */
  indexDigest?: string;
  /** OCI builder: one entry per platform of the index. */
  platforms?: Array<{ platform: string; configDigest: string; manifestDigest?: string }>;
  /**
   * OCI builder: the image config's HEALTHCHECK (durations in ns, as the Engine API has them), so a
   * deploy of a pushed image that the manager never pulled still knows what its tasks are checked by.
   */
  healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
  /** OCI builder: the platform loaded into the engine (not pushing), and whether this run loaded it. */
  loaded?: { platform: string; imageId: string; loadedNow: boolean };
}

export const IMAGE_RECEIPT_FILE = 'image.json';

/** dist/{projectRoot}/image.json, or {outputDir}/image.json (the plugin's choice next to nx-go). */
export function imageReceiptPath(workspaceRoot: string, projectRoot: string, outputDir?: string): string {
  return path.join(workspaceRoot, outputDir ?? path.join('dist', projectRoot), IMAGE_RECEIPT_FILE);
}

export function readImageReceipt(file: string): ImageReceipt | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ImageReceipt;
  } catch {
    return undefined;
  }
}

/**
 * The part of the receipt that names the image, without what only describes the run that wrote it
 * (createdAt, built, tagsMoved, loaded.loadedNow): the deploy target's cache input, so that an image
 * run that changed nothing (a push that only HEADed, a skipped load) leaves the deploy's hash alone. Pure.
 */
export function imageIdentity(
  receipt: ImageReceipt,
): Omit<ImageReceipt, 'createdAt' | 'built' | 'tagsMoved' | 'loaded'> & { loaded?: { platform: string; imageId: string } } {
  const { createdAt: _c, built: _b, tagsMoved: _t, loaded, ...rest } = receipt;
  return { ...rest, ...(loaded ? { loaded: { platform: loaded.platform, imageId: loaded.imageId } } : {}) };
}

/** image-id.json next to image.json: {@link imageIdentity}. */
export const IMAGE_IDENTITY_FILE = 'image-id.json';

/** Writes image.json and image-id.json. */
export function writeImageReceipt(file: string, receipt: ImageReceipt): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(receipt, null, 2) + '\n');
  fs.writeFileSync(path.join(path.dirname(file), IMAGE_IDENTITY_FILE), JSON.stringify(imageIdentity(receipt), null, 2) + '\n');
}

/**
 * Did the run change the engine or the registry (built, loaded, tagged; uploaded or put anything)?
 * Pure.
 */
export function receiptWrote(receipt: Pick<ImageReceipt, 'built' | 'pushed' | 'tagsMoved' | 'loaded' | 'builder'>): boolean {
  // The OCI push sets built when it uploaded a blob or put a manifest or tag; the engine's push can't tell.
  const enginePush = receipt.pushed && receipt.builder !== 'oci';
  return receipt.built || enginePush || Boolean(receipt.tagsMoved?.length) || Boolean(receipt.loaded?.loadedNow);
}

/** The pushed references whose manifest the cache check HEADs: `repository:tag` for the content tag and each tag. Pure. */
export function pushedRefs(receipt: Pick<ImageReceipt, 'pushed' | 'repository' | 'contentTag' | 'tags'>): string[] {
  if (!receipt.pushed) return [];
  return [...new Set([receipt.contentTag, ...receipt.tags])].map((t) => `${receipt.repository}:${t}`);
}
