export interface GoServiceGeneratorSchema {
  /** Service name: project, binary, image repository, swarm service and DNS name. */
  name: string;
  /** Folder relative to the workspace root; default apps/{name}. */
  directory?: string;
  /** Container port (default 8080). */
  port?: number;
  /** Publish on this swarm port; omitted: internal only. */
  publishedPort?: number;
  /** Go module path; default example.com/{name}. */
  module?: string;
  /** go directive of go.mod; default "1.22". */
  goVersion?: string;
  /** Extra tags, comma separated. */
  tags?: string;
  /** No shared module: the service carries its own health check and drain (default false). */
  standalone?: boolean;
  /** Folder of the shared Go module (default libs/go/common); created when missing. */
  commonDirectory?: string;
  /** Module path of a newly created shared module (default: the service module's parent + /common). */
  commonModule?: string;
  /** Register the nx-swarm plugin (default true unless NX_ADD_PLUGINS=false); false: explicit targets. */
  addPlugin?: boolean;
  skipFormat?: boolean;
}
