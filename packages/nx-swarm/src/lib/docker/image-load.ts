/**
 * Loads an image the OCI builder made into the engine (POST /images/load of a docker-archive) and
 * moves its tags. The engine's image id is the config digest, so it is the same on every machine.
 * Skips the load when the engine already has that id (then only tags move).
 */
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { daemonMessage } from './engine';
import { followStream } from './progress-stream';

export interface LoadResult {
  loaded: boolean;
  imageId: string;
  size: number;
  /** Tags this run put on the image (they were missing or on another image). */
  tagsMoved: string[];
}

export class LoadError extends Error {}

/** The engine's own platform ("linux/amd64"), from GET /version. */
export async function enginePlatform(docker: Docker): Promise<{ os: string; architecture: string }> {
  const v = (await docker.version()) as { Os?: string; Arch?: string };
  return { os: v.Os ?? 'linux', architecture: v.Arch ?? 'amd64' };
}

async function inspect(docker: Docker, ref: string): Promise<{ Id: string; Size: number; RepoTags?: string[] } | undefined> {
  try {
    return (await docker.getImage(ref).inspect()) as unknown as { Id: string; Size: number; RepoTags?: string[] };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw new LoadError(`Could not inspect ${ref}: ${daemonMessage(error)}`);
  }
}

export async function loadImage(
  docker: Docker,
  archive: () => Promise<Buffer>,
  imageId: string,
  repository: string,
  tags: string[],
  log: (line: string) => void,
): Promise<LoadResult> {
  let existing = await inspect(docker, imageId);
  let loaded = false;
  if (!existing) {
    const bytes = await archive();
    let stream: NodeJS.ReadableStream;
    try {
      stream = (await docker.loadImage(Readable.from([bytes]) as unknown as NodeJS.ReadableStream, { quiet: true })) as NodeJS.ReadableStream;
    } catch (error) {
      throw new LoadError(`The engine refused to load ${repository}: ${daemonMessage(error)}`);
    }
    const outcome = await followStream(stream, log);
    if (outcome.error) throw new LoadError(`The engine could not load ${repository}: ${outcome.error}`);
    existing = await inspect(docker, imageId);
    if (!existing) throw new LoadError(`The engine loaded ${repository} but has no image ${imageId} (its image id should be the config digest).`);
    loaded = true;
  }
  const have = new Set(existing.RepoTags ?? []);
  const tagsMoved: string[] = [];
  for (const tag of tags) {
    if (have.has(`${repository}:${tag}`)) continue;
    tagsMoved.push(tag);
    try {
      await docker.getImage(imageId).tag({ repo: repository, tag });
    } catch (error) {
      throw new LoadError(`Could not tag ${imageId} as ${repository}:${tag}: ${daemonMessage(error)}`);
    }
  }
  return { loaded, imageId: existing.Id, size: existing.Size, tagsMoved };
}
