/**
 * The project an executor runs for, from Nx's ExecutorContext (type-only: no runtime @nx/devkit).
 */
import type { ExecutorContext } from '@nx/devkit';

export interface ProjectRef {
  /** The Nx project name ("app" when Nx gave none: an executor called outside a project). */
  name: string;
  /** Its root, relative to the workspace ("." when unknown). */
  root: string;
}

export function projectOf(context: ExecutorContext, fallbackName = 'app'): ProjectRef {
  const name = context.projectName || fallbackName;
  const root = context.projectsConfigurations?.projects?.[name]?.root ?? '.';
  return { name, root };
}
