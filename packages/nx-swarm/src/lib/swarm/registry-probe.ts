/**
 * Why a node could not pull a pushed image. Engine 20.10 reports a failed pull in the task as
 * "No such image: REF@sha256:…" and keeps the registry's own words in the node's daemon log, so the
 * deployer asks the registry itself, the way the node did: a GET of the manifest, with the
 * credentials this deploy sent to the nodes (withRegistryAuth) or without any. `registryPullLine`
 * turns the answer into one line for people (pure); `probeRegistryPull` is the request.
 */
import type { RegistryCredentials } from '../docker/registry-auth';

export interface RegistryAnswer {
  /** HTTP status of the manifest GET (0: no answer). */
  status: number;
  /** The registry's words (its error codes and messages), or the connection error. */
  words: string;
}

export interface PullContext {
  /** The registry host[:port]. */
  registry: string;
  /** Did this deploy send credentials to the nodes (X-Registry-Auth)? */
  credentialsSent: boolean;
  /** Where they came from ("~/.docker/config.json", "credsStore pass", …). */
  credentialSource?: string;
}

/** One line: what the registry answers a pull like the node's, and the next step. Pure. */
export function registryPullLine(ref: string, answer: RegistryAnswer, ctx: PullContext): string {
  const how = ctx.credentialsSent
    ? `with the credentials this deploy sent to the nodes (from ${ctx.credentialSource ?? 'the docker config'})`
    : 'without credentials';
  const said = `the registry ${ctx.registry} answers a pull of ${ref} ${how} with ${answer.status ? `${answer.status} ` : ''}"${answer.words}"`;
  if (answer.status === 401 || answer.status === 403) {
    return ctx.credentialsSent
      ? `Registry: ${said}: the credentials are refused. Log in again (\`docker login ${ctx.registry}\`) where the deploy runs, and deploy again.`
      : `Registry: ${said}: it is private, and this deploy sent no credentials. Run \`docker login ${ctx.registry}\` where the deploy runs ` +
          `(withRegistryAuth, on by default, then sends them to the nodes, so a task rescheduled to a node that never pulled the image still starts), and deploy again.`;
  }
  if (answer.status === 404) return `Registry: ${said}: it has no such manifest. Push the image again (nx run PROJECT:image), then deploy.`;
  if (answer.status >= 200 && answer.status < 300) {
    return (
      `Registry: ${ctx.registry} serves ${ref} ${how}, so the node itself could not reach it or would not speak to it: check from the node ` +
      `that ${ctx.registry} resolves and answers, and for a plain-HTTP registry the engine's insecure-registries.`
    );
  }
  return `Registry: ${said}. Check that ${ctx.registry} is up and reachable, then deploy again.`;
}

/** "host:5000/a/b@sha256:…" or "host:5000/a/b:tag@sha256:…" → its parts; undefined for a Docker Hub or digest-less name. Pure. */
export function pushedRefParts(
  ref: string,
  domainOf: (repository: string) => string,
): { registry: string; repository: string; reference: string } | undefined {
  const at = ref.indexOf('@');
  if (at < 0) return undefined;
  const digest = ref.slice(at + 1);
  let name = ref.slice(0, at);
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) name = name.slice(0, colon);
  const registry = domainOf(name);
  if (registry === 'docker.io' || !name.startsWith(`${registry}/`)) return undefined;
  return { registry, repository: name.slice(registry.length + 1), reference: digest };
}

/** GET the manifest like the node's pull did. Never throws: a failed request is an answer too. */
export async function probeRegistryPull(
  parts: { registry: string; repository: string; reference: string },
  credentials: RegistryCredentials | undefined,
  env: NodeJS.ProcessEnv,
): Promise<RegistryAnswer> {
  const { RegistryClient, RegistryError, declaredInsecure, isLoopbackHost, registryWords } =
    require('../oci/registry') as typeof import('../oci/registry');
  const { MEDIA_TYPES } = require('../oci/image') as typeof import('../oci/image');
  if (!credentials) {
    // What the node got: an anonymous GET, and the registry's own words (its JSON errors).
    const path = `/v2/${parts.repository}/manifests/${parts.reference}`;
    const schemes = isLoopbackHost(parts.registry) || declaredInsecure(parts.registry, env) ? ['http'] : ['https', 'http'];
    let last = '';
    for (const scheme of schemes) {
      try {
        const res = await fetch(`${scheme}://${parts.registry}${path}`, {
          headers: { Accept: [MEDIA_TYPES.index, MEDIA_TYPES.manifest, MEDIA_TYPES.dockerList, MEDIA_TYPES.dockerManifest].join(', ') },
          signal: AbortSignal.timeout(10_000),
        });
        return { status: res.status, words: res.ok ? 'OK' : registryWords(await res.text()) };
      } catch (error) {
        last = ((error as { cause?: Error }).cause ?? (error as Error)).message;
      }
    }
    return { status: 0, words: last };
  }
  const client = new RegistryClient({ domain: parts.registry, credentials, insecure: declaredInsecure(parts.registry, env) });
  try {
    await client.getManifest(parts.repository, parts.reference, [
      MEDIA_TYPES.index,
      MEDIA_TYPES.manifest,
      MEDIA_TYPES.dockerList,
      MEDIA_TYPES.dockerManifest,
    ]);
    return { status: 200, words: 'OK' };
  } catch (error) {
    const status = error instanceof RegistryError ? (error.status ?? 0) : 0;
    const message = (error as Error).message;
    const words = message.replace(/^.*? failed: \d+ /, '');
    return { status, words: words || message };
  }
}
