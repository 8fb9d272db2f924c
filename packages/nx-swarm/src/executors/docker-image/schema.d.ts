/** A build output placed into the build context without copying it into the source tree. */
export interface DockerImageFileMapping {
  /** Source file, relative to the workspace root (or absolute). */
  from: string;
  /** Path inside the build context. Default: the basename of `from`. */
  to?: string;
}

export interface DockerImageExecutorSchema {
  /** Folder (workspace-relative) of the image receipt image.json; default dist/{projectRoot}. */
  outputDir?: string;
  /** Build context directory, relative to the workspace root. Default: the project root. */
  context?: string;
  /** Dockerfile, relative to the context (or absolute). Default "Dockerfile". */
  dockerfile?: string;
  /** auto (default): OCI builder when the Dockerfile is in its subset, else the engine. */
  builder?: 'auto' | 'oci' | 'engine';
  /** Files placed into the context (always sent, .dockerignore does not apply to them). */
  files?: DockerImageFileMapping[];
  /** Repository name. Default "someprefix/{projectName}". */
  repository?: string;
  /** Convenience tags moved to the image on every run. Default ["latest"]. */
  tags?: string[];
  /** Build arguments (ARG). */
  buildArgs?: Record<string, string>;
  /** Image labels. */
  labels?: Record<string, string>;
  /** Build stage to stop at (multi-stage Dockerfiles). */
  target?: string;
  /** Target platform, os/arch[/variant], e.g. "linux/amd64". */
  platform?: string;
  /** OCI builder: platforms of the image index. Default: the linux targets of the go-cross-build target. */
  platforms?: string[];
  /** Push the content tag and the convenience tags to the registry. Default false. */
  push?: boolean;
  /** Registry host[:port] prefixed to the repository, e.g. "127.0.0.1:5000". */
  registry?: string;
}
