import { EngineLostError, engineLostMessage, guardLostEngine } from './engine-lost';

const ctx = {
  describe: 'ssh://mgr (DOCKER_HOST)',
  rerun: 'run deploy',
  unknownAfterWrite: 'the rollout may still be running on the swarm',
  nextAfterWrite: 'run deploy again when the manager answers: it follows the rollout or reports it done.',
};
const refused = () => Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' });

describe('engineLostMessage', () => {
  it.each([
    [
      'nothing sent yet',
      [],
      1,
      [
        /during inspectService \(connect ECONNREFUSED \/var\/run\/docker.sock\)\./,
        /Sent: nothing was written/,
        /Next: run deploy again when the manager answers\./,
      ],
    ],
    [
      'an update accepted, then lost while following',
      [{ what: 'update of service web to r/web:2 (at spec version 41)', outcome: 'accepted' as const }],
      4,
      [
        /still lost after 4 attempts/,
        /Sent: update of service web to r\/web:2 \(at spec version 41\): accepted\./,
        /Unknown: the rollout may still be running/,
        /Next: run deploy again .* follows the rollout/,
      ],
    ],
    [
      'an update without an answer',
      [{ what: 'update of service web to r/web:2 (at spec version 41)', outcome: 'no answer' as const }],
      1,
      [/: sent, no answer\./, /Unknown: whether the engine applied what got no answer, and the rollout/],
    ],
  ])('%s', (_name, journal, attempts, expected) => {
    const message = engineLostMessage(
      ctx,
      journal.length ? 'listTasks' : 'inspectService',
      'connect ECONNREFUSED /var/run/docker.sock',
      attempts,
      journal,
    );
    for (const re of expected) expect(message).toMatch(re);
  });
});

function fakeApi(failures: number, error: () => Error = refused) {
  let calls = 0;
  return {
    calls: () => calls,
    api: {
      read: async () => {
        calls++;
        if (calls <= failures) throw error();
        return 'ok';
      },
      write: async (name: string) => {
        calls++;
        if (calls <= failures) throw error();
        return `wrote ${name}`;
      },
      other: () => 'untouched',
    },
  };
}
const guard = <T extends object>(api: T, retries: string[] = []) =>
  guardLostEngine(api, ctx, {
    reads: ['read'] as (keyof T)[],
    writes: { write: (name: string) => `write of ${name}` } as never,
    sleep: async () => undefined,
    onRetry: (l) => retries.push(l),
  });

describe('guardLostEngine', () => {
  it('retries a read whose connection dropped, then answers', async () => {
    const f = fakeApi(2);
    const retries: string[] = [];
    await expect(guard(f.api, retries).read()).resolves.toBe('ok');
    expect(f.calls()).toBe(3);
    expect(retries).toEqual([expect.stringMatching(/trying again \(1\/3\)/), expect.stringMatching(/trying again \(2\/3\)/)]);
  });

  it('gives up after the bounded attempts, with the message', async () => {
    const f = fakeApi(99);
    const p = guard(f.api).read();
    await expect(p).rejects.toBeInstanceOf(EngineLostError);
    await expect(p).rejects.toThrow(/still lost after 4 attempts.*\nSent: nothing was written/s);
    expect(f.calls()).toBe(4);
  });

  it('never retries a write, and journals it', async () => {
    const f = fakeApi(1);
    const g = guard(f.api);
    await expect(g.write('web')).rejects.toThrow(/during write of web .*\nSent: write of web: sent, no answer/s);
    expect(f.calls()).toBe(1);
    expect(g.journal).toEqual([{ what: 'write of web', outcome: 'no answer' }]);
  });

  it('an accepted write is named when a later read is lost', async () => {
    const f = fakeApi(0);
    const g = guard(f.api);
    await g.write('web');
    f.api.read = async () => {
      throw refused();
    };
    await expect(guard(f.api).read()).rejects.toThrow(/nothing was written/); // another run: its own journal
    const again = guardLostEngine(f.api, ctx, {
      reads: ['read'],
      writes: { write: (n: string) => `write of ${n}` } as never,
      sleep: async () => undefined,
    });
    await again.write('web');
    await expect(again.read()).rejects.toThrow(/Sent: write of web: accepted\.\nUnknown: the rollout/);
  });

  it('passes answers of the engine (errors with a status) straight through', async () => {
    const f = fakeApi(1, () => Object.assign(new Error('(HTTP code 409) conflict - update out of sequence'), { statusCode: 409 }));
    await expect(guard(f.api).read()).rejects.toThrow(/out of sequence/);
    expect(f.calls()).toBe(1);
  });

  it('leaves other methods alone', () => {
    expect(guard(fakeApi(0).api).other()).toBe('untouched');
  });
});
