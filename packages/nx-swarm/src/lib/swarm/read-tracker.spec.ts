import * as path from 'node:path';
import { readTracker } from './read-tracker';

describe('readTracker', () => {
  it('records the variables read by name (not the ones only present) and files workspace-relative', () => {
    const t = readTracker({ A: '1', B: '2', UNUSED: 'x' }, '/ws');
    expect(t.env.A).toBe('1');
    expect(t.env.MISSING).toBeUndefined();
    void t.env.B;
    t.file('/ws/app/config/a.txt');
    t.file('app/secret.txt');
    t.file('/var/run/docker.sock');
    t.file(path.join('/ws', '..', 'elsewhere', 'x'));
    expect(t.read).toEqual({
      env: ['A', 'B', 'MISSING'],
      files: ['/elsewhere/x', '/var/run/docker.sock', 'app/config/a.txt', 'app/secret.txt'],
    });
  });

  it('keeps the first reason a deploy is uncacheable', () => {
    const t = readTracker({}, '/ws');
    t.uncacheable('first');
    t.uncacheable('second');
    expect(t.read.uncacheable).toBe('first');
  });
});
