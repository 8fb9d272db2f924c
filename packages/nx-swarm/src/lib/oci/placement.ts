/**
 * Swarm's placement platforms, shared by the image index (lib/oci/platforms.ts) and the deployer
 * (lib/swarm/image-ref.ts). No imports: the deploy task loads it without the Dockerfile parser.
 */

/** Swarm's placement platform ({ Architecture, OS }, the service spec's spelling). */
export interface PlacementPlatform {
  Architecture: string;
  OS: string;
}

/**
 * One `Placement.Platforms` entry. 32-bit arm leaves the architecture empty, as the docker CLI does
 * (moby/moby#34021): swarm compares the strings, and a Raspberry Pi's engine reports "armv7l", never
 * "arm"; an empty field matches any architecture, and the engine then pulls the index's image for
 * its own platform. Pure.
 */
export function placementPlatform(os: string, architecture: string): PlacementPlatform {
  return { Architecture: architecture === 'arm' ? '' : architecture, OS: os };
}
