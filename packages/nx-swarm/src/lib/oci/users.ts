/**
 * User and group names in `COPY --chown=NAME[:GROUP]`, resolved the way `docker build` (BuildKit)
 * does: from the base image's /etc/passwd and /etc/group. Pure: layer tars (or the files' texts) in,
 * ids out. The registry download and its cache are build.ts's (`baseUserDb`).
 *
 *   --chown=1000            uid 1000, gid 1000
 *   --chown=1000:50         uid 1000, gid 50
 *   --chown=app             app's uid and its primary gid (the passwd entry's gid field)
 *   --chown=app:staff       app's uid, staff's gid from /etc/group
 *   --chown=app:50 / 1000:staff   mixed, each part on its own
 *
 * Unlike BuildKit, which silently uses 0 for a name it can't find, an unknown name fails the build
 * with the file it looked in (the classic builder fails too: "no such user").
 */
import { DockerfileError, NeedsEngine } from './dockerfile';
import { readTar } from './tar';

export interface UserDb {
  /** Where the names come from, for messages: "the base image 127.0.0.1:5000/base:1", "FROM scratch". */
  source: string;
  users: Array<{ name: string; uid: number; gid: number }>;
  groups: Array<{ name: string; gid: number }>;
}

/** /etc/passwd lines name:password:uid:gid:gecos:home:shell; comments, blanks and broken lines skipped. */
export function parsePasswd(text: string): UserDb['users'] {
  const out: UserDb['users'] = [];
  for (const line of text.split('\n')) {
    const f = line.replace(/\r$/, '').split(':');
    if (f.length < 4 || !f[0] || f[0].startsWith('#') || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]) });
  }
  return out;
}

/** /etc/group lines name:password:gid:members. */
export function parseGroup(text: string): UserDb['groups'] {
  const out: UserDb['groups'] = [];
  for (const line of text.split('\n')) {
    const f = line.replace(/\r$/, '').split(':');
    if (f.length < 3 || !f[0] || f[0].startsWith('#') || !/^\d+$/.test(f[2])) continue;
    out.push({ name: f[0], gid: Number(f[2]) });
  }
  return out;
}

/** An owner spec written with ids only needs no user database. */
export function isNumericOwner(text: string): boolean {
  return /^\d+(:\d+)?$/.test(text);
}

/** "app:staff" → ids, through `db`; throws DockerfileError naming what is missing and where it looked. */
export function resolveOwner(text: string, db: UserDb, at: string): { uid: number; gid: number } {
  const parts = text.split(':');
  if (parts.length > 2 || parts.some((p) => p === '')) throw new DockerfileError(`${at} --chown=${text} is not USER[:GROUP]`);
  const [userPart, groupPart] = parts;
  let uid: number;
  let gid: number;
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    gid = uid;
  } else {
    const user = db.users.find((u) => u.name === userPart);
    if (!user) throw new DockerfileError(`${at} --chown=${text}: no user "${userPart}" in /etc/passwd of ${db.source}${hint(db)}`);
    uid = user.uid;
    gid = user.gid;
  }
  if (groupPart !== undefined) {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const group = db.groups.find((g) => g.name === groupPart);
      if (!group) throw new DockerfileError(`${at} --chown=${text}: no group "${groupPart}" in /etc/group of ${db.source}${hint(db)}`);
      gid = group.gid;
    }
  }
  return { uid, gid };
}

function hint(db: UserDb): string {
  return db.users.length || db.groups.length ? '' : ' (it has none: use numeric ids, e.g. --chown=65532:65532)';
}

/**
 * /etc/passwd and /etc/group as the image's layers leave them (lowest layer first): a later layer's
 * file replaces an earlier one, a whiteout (`etc/.wh.passwd`) or an opaque `etc/` removes it. Either is
 * undefined when the image has none. A symlink or hard link there throws NeedsEngine (the engine
 * builder follows links inside the image's root; this reader does not).
 */
export function userFilesFromLayers(tars: Buffer[]): { passwd?: string; group?: string } {
  const files: Record<'passwd' | 'group', string | undefined> = { passwd: undefined, group: undefined };
  for (const tar of tars) {
    const inThisLayer = new Set<string>();
    // Only /etc/passwd and /etc/group are copied out: a base layer can be hundreds of MB.
    for (const entry of readTar(tar, (p) => /^(\.\/|\/)*etc\/(passwd|group)$/.test(p))) {
      const p = entry.path.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
      if (p === 'etc/.wh..wh..opq' || p === 'etc' || p === '.wh.etc') {
        // An opaque etc/ (or etc replaced, or removed) hides what lower layers had there.
        if (p !== 'etc' || entry.type !== '5') for (const k of ['passwd', 'group'] as const) if (!inThisLayer.has(k)) files[k] = undefined;
        continue;
      }
      const m = /^etc\/(\.wh\.)?(passwd|group)$/.exec(p);
      if (!m) continue;
      const key = m[2] as 'passwd' | 'group';
      if (m[1]) {
        files[key] = undefined;
        continue;
      }
      if (entry.type === '2' || entry.type === '1') {
        throw new NeedsEngine(`the base image's /etc/${key} is a ${entry.type === '2' ? 'symbolic' : 'hard'} link (to ${entry.linkname})`);
      }
      if (entry.type !== '0' && entry.type !== '7') continue;
      files[key] = entry.content.toString('utf8');
      inThisLayer.add(key);
    }
  }
  return files;
}

export function userDbOf(source: string, files: { passwd?: string; group?: string }): UserDb {
  return { source, users: files.passwd ? parsePasswd(files.passwd) : [], groups: files.group ? parseGroup(files.group) : [] };
}
