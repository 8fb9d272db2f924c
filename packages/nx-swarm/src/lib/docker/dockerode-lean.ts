/**
 * dockerode, without loading at require time the two parts of it this plugin never calls:
 * - its BuildKit session (`dockerode/lib/session`: @grpc/grpc-js and @grpc/proto-loader, about
 *   130 ms here), used only by `buildImage` with `version: '2'`; the Engine builder here is the
 *   classic one;
 * - docker-modem's ssh transport (`docker-modem/lib/ssh`: ssh2, about 70 ms), used only for
 *   `protocol: 'ssh'`; ssh:// goes through the system ssh client here (ssh-transport.ts).
 * Together two thirds of dockerode's load time, paid by every task process that talks to an
 * engine (an image load, a deploy). Each is put in Node's module cache as a forwarder that loads
 * the real module on its first call, so a caller that does use them gets the same behaviour, a
 * moment later. Where a file is not where this expects (another dockerode layout), nothing is
 * deferred and dockerode loads as usual.
 */
import Module from 'node:module';
import * as path from 'node:path';
import type DockerodeClass from 'dockerode';

/** The modules deferred (absolute paths), for tests. */
export const deferredModules: string[] = [];

function deferCall(file: string): void {
  if (require.cache[file]) return; // already loaded: nothing left to save
  let real: ((...args: unknown[]) => unknown) | undefined;
  const m = new Module(file, module);
  m.filename = file;
  m.loaded = true;
  m.exports = function deferred(this: unknown, ...args: unknown[]): unknown {
    if (!real) {
      delete require.cache[file];
      real = require(file) as (...args: unknown[]) => unknown;
    }
    return real.apply(this, args);
  };
  require.cache[file] = m;
  deferredModules.push(file);
}

let loaded: typeof DockerodeClass | undefined;

/** The dockerode class, its unused heavy parts deferred. */
export function loadDockerode(): typeof DockerodeClass {
  if (loaded) return loaded;
  try {
    const main = require.resolve('dockerode');
    const session = require.resolve('dockerode/lib/session', { paths: [path.dirname(main)] });
    const modem = require.resolve('docker-modem', { paths: [path.dirname(main)] });
    const ssh = require.resolve('docker-modem/lib/ssh', { paths: [path.dirname(modem)] });
    if (!require.cache[main]) {
      deferCall(session);
      deferCall(ssh);
    }
  } catch {
    /* another layout: load it all */
  }
  loaded = require('dockerode') as typeof DockerodeClass;
  return loaded;
}
