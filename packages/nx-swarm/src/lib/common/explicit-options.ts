/**
 * Which options the user set, as opposed to the schema defaults Nx fills in before an executor
 * runs: the keys of the target's `options` and of the chosen configuration, and any value that
 * differs from the schema's default (command-line overrides). Pure.
 */
import type { ExecutorContext } from '@nx/devkit';

export function explicitOptionKeys(
  context: Pick<ExecutorContext, 'projectName' | 'targetName' | 'configurationName' | 'projectsConfigurations'>,
  options: Record<string, unknown>,
  schema: { properties?: Record<string, { default?: unknown }> },
): (key: string) => boolean {
  const target =
    context.projectName && context.targetName
      ? context.projectsConfigurations?.projects[context.projectName]?.targets?.[context.targetName]
      : undefined;
  const raw = new Set<string>([
    ...Object.keys(target?.options ?? {}),
    ...(context.configurationName ? context.configurationName.split(',').flatMap((c) => Object.keys(target?.configurations?.[c.trim()] ?? {})) : []),
  ]);
  return (key) => {
    if (raw.has(key)) return true;
    const dflt = schema.properties?.[key]?.default;
    const v = options[key];
    return v !== undefined && (dflt === undefined || JSON.stringify(v) !== JSON.stringify(dflt));
  };
}
