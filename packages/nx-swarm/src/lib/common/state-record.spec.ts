import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nextImageRecord, readStateRecord, stateRecordPath, updateStateRecord } from './state-record';

describe('nextImageRecord: a new nonce whenever the run wrote, or looks at other repositories', () => {
  const fresh = () => 'new';
  it.each([
    ['no record yet, nothing written', undefined, ['r'], false, 'new', []],
    ['no record yet, wrote', undefined, ['r'], true, 'new', []],
    ['same repositories, nothing written: kept', { repositories: ['r'], nonce: 'old' }, ['r'], false, 'old', []],
    ['same repositories, wrote', { repositories: ['r'], nonce: 'old' }, ['r'], true, 'new', []],
    ['other repositories, nothing written', { repositories: ['r'], nonce: 'old' }, ['s'], false, 'new', []],
    ['same set in another order: kept', { repositories: ['a', 'b'], nonce: 'old' }, ['b', 'a'], false, 'old', []],
    ['pushed refs that were not there before', { repositories: ['r'], nonce: 'old' }, ['r'], false, 'new', ['r:c-1']],
    ['the same pushed refs, nothing written: kept', { repositories: ['r'], nonce: 'old', registryRefs: ['r:c-1'] }, ['r'], false, 'old', ['r:c-1']],
  ] as Array<[string, Parameters<typeof nextImageRecord>[0], string[], boolean, string, string[]]>)(
    '%s',
    (_name, previous, repos, wrote, nonce, refs) => {
      const next = nextImageRecord(previous, repos, wrote, fresh, refs);
      expect(next.nonce).toBe(nonce);
      expect(next.repositories).toEqual([...repos].sort());
    },
  );
});

describe('the state record file', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxs-state-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('lives in Nx workspace-data (or NX_WORKSPACE_DATA_DIRECTORY), one file per project', () => {
    expect(stateRecordPath('/ws', 'a/b', {})).toBe(path.join('/ws', '.nx', 'workspace-data', 'nx-swarm-state', 'a_b.json'));
    expect(stateRecordPath('/ws', 'p', { NX_WORKSPACE_DATA_DIRECTORY: '/data' })).toBe(path.join('/data', 'nx-swarm-state', 'p.json'));
  });

  it('keeps one part when the other is written, and reads undefined when missing or broken', () => {
    expect(readStateRecord(root, 'p')).toBeUndefined();
    updateStateRecord(root, 'p', { image: { repositories: ['r'], nonce: 'n' } });
    updateStateRecord(root, 'p', { deploy: { services: ['s'], files: [], env: [] } });
    expect(readStateRecord(root, 'p')).toEqual({
      version: 1,
      image: { repositories: ['r'], nonce: 'n' },
      deploy: { services: ['s'], files: [], env: [] },
    });
    fs.writeFileSync(stateRecordPath(root, 'p'), '{broken');
    expect(readStateRecord(root, 'p')).toBeUndefined();
  });
});
