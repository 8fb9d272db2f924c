/**
 * Docker image references, validated with the grammar of distribution/reference (reference.go,
 * regexp.go, normalize.go). Pure: no I/O.
 *
 *   reference       := name [ ":" tag ] [ "@" digest ]
 *   name            := [domain '/'] remote-name
 *   domain          := host [':' port-number]
 *   host            := domain-name | IPv4address | '[' IPv6address ']'
 *   domain-name     := domain-component ['.' domain-component]*
 *   domain-component:= /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
 *   remote-name     := path-component ['/' path-component]*
 *   path-component  := alpha-numeric [separator alpha-numeric]*
 *   alpha-numeric   := /[a-z0-9]+/
 *   separator       := /[_.]|__|[-]+/
 *   tag             := /[\w][\w.-]{0,127}/
 *   digest          := algorithm ":" hex (sha256: 64 hex)
 *
 * The first component is a domain when it contains "." or ":", is "localhost", or has an
 * uppercase letter (splitDockerDomain); otherwise the name lives on Docker Hub.
 */

const ALPHA_NUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALPHA_NUMERIC}(?:${SEPARATOR}${ALPHA_NUMERIC})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const HOST = `(?:${DOMAIN_NAME}|${IPV6})`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;

const PATH_COMPONENT_RE = new RegExp(`^${PATH_COMPONENT}$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256_DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** Maximum length of a name (domain and path), from distribution/reference. */
export const NAME_TOTAL_LENGTH_MAX = 255;

export const DOCKER_HUB_DOMAIN = 'docker.io';
/** The key Docker Hub credentials are stored under in config.json, and the server a helper is asked for. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

export interface ParsedReference {
  /** Registry host[:port] as written, or undefined for Docker Hub. */
  domain?: string;
  /** The remote name, e.g. "someprefix/accountservice". */
  path: string;
  tag?: string;
  digest?: string;
}

/** Is this first path component a registry host (splitDockerDomain)? */
function looksLikeDomain(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component !== component.toLowerCase();
}

/** Explains why a tag is invalid, or returns undefined. */
export function tagProblem(tag: string): string | undefined {
  if (TAG_RE.test(tag)) return undefined;
  if (tag.length === 0) return 'a tag cannot be empty';
  if (tag.length > 128) return `tag "${tag.slice(0, 20)}…" is ${tag.length} characters long; the maximum is 128`;
  if (/^[.-]/.test(tag)) return `tag "${tag}" must start with a letter, digit or underscore`;
  return `tag "${tag}" may only contain letters, digits, "_", "." and "-"`;
}

/** Explains why a registry host[:port] is invalid, or returns undefined. */
export function domainProblem(domain: string): string | undefined {
  if (DOMAIN_RE.test(domain)) return undefined;
  return `"${domain}" is not a registry host[:port] (e.g. "127.0.0.1:5000" or "registry.example.com")`;
}

/**
 * Explains why a repository name (without tag or digest) is invalid, or returns undefined.
 * A repository may start with a registry host: "127.0.0.1:5000/accountservice".
 */
export function repositoryProblem(name: string): string | undefined {
  if (name.length === 0) return 'the repository name is empty';
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    return `repository "${name.slice(0, 40)}…" is ${name.length} characters long; the maximum is ${NAME_TOTAL_LENGTH_MAX}`;
  }
  const parts = name.split('/');
  if (parts.length > 1 && looksLikeDomain(parts[0])) {
    const problem = domainProblem(parts[0]);
    if (problem) return `repository "${name}": ${problem}`;
    parts.shift();
  }
  for (const part of parts) {
    if (!PATH_COMPONENT_RE.test(part)) {
      if (part.length === 0) return `repository "${name}" has an empty path component`;
      if (part !== part.toLowerCase()) return `repository "${name}" must be lowercase ("${part}")`;
      if (part.includes(':')) return `repository "${name}" must not contain a tag; use the tags option`;
      return `repository "${name}": "${part}" is not a valid path component ` + `(lowercase letters and digits, separated by ".", "_", "__" or "-")`;
    }
  }
  return undefined;
}

/**
 * Parses a full reference (name[:tag][@digest]). Throws an Error naming the problem.
 */
export function parseReference(reference: string): ParsedReference {
  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw new Error(`"${reference}": "${digest}" is not a digest (e.g. sha256:<64 hex>)`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    const problem = tagProblem(tag);
    if (problem) throw new Error(`"${reference}": ${problem}`);
  }
  const problem = repositoryProblem(rest);
  if (problem) throw new Error(problem);
  const parts = rest.split('/');
  let domain: string | undefined;
  if (parts.length > 1 && looksLikeDomain(parts[0])) domain = parts.shift();
  return { domain, path: parts.join('/'), tag, digest };
}

/** Formats name[:tag][@digest]. */
export function formatReference(ref: ParsedReference): string {
  const name = ref.domain ? `${ref.domain}/${ref.path}` : ref.path;
  return `${name}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The registry a repository lives on: its domain, or "docker.io". */
export function registryDomainOf(repository: string): string {
  const parts = repository.split('/');
  return parts.length > 1 && looksLikeDomain(parts[0]) ? parts[0] : DOCKER_HUB_DOMAIN;
}

/** The repository path without the registry domain ("127.0.0.1:5000/a/b" → "a/b"). */
export function repositoryPathOf(repository: string): string {
  const parts = repository.split('/');
  return parts.length > 1 && looksLikeDomain(parts[0]) ? parts.slice(1).join('/') : repository;
}

/**
 * The server key credentials for this registry domain are stored under (config.json `auths`,
 * credential helpers): Docker Hub uses "https://index.docker.io/v1/", others their host[:port].
 */
export function authServerFor(domain: string): string {
  return domain === DOCKER_HUB_DOMAIN || domain === 'index.docker.io' || domain === 'registry-1.docker.io' ? DOCKER_HUB_AUTH_KEY : domain;
}

/** Prefixes a repository with a registry host; errors when the repository already names one. */
export function withRegistry(repository: string, registry: string | undefined): string {
  if (!registry) return repository;
  const host = registry.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
  const problem = domainProblem(host);
  if (problem) throw new Error(`registry: ${problem}`);
  const parts = repository.split('/');
  if (parts.length > 1 && looksLikeDomain(parts[0])) {
    if (parts[0] === host) return repository;
    throw new Error(`repository "${repository}" already names the registry "${parts[0]}", and registry is "${registry}". Set only one of them.`);
  }
  return `${host}/${repository}`;
}

/** Is this a "sha256:<64 hex>" digest? */
export function isSha256Digest(value: string): boolean {
  return SHA256_DIGEST_RE.test(value);
}
