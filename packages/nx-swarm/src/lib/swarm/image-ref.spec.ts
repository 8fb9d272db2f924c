import { chooseImage, placementPlatforms } from './image-ref';
import { buildServiceSpec } from './service-spec';
import { normalizeDeployOptions } from './deploy-options';
import type { ImageReceipt } from '../docker/image-receipt';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const receipt = (extra: Partial<ImageReceipt>): ImageReceipt =>
  ({ repository: 'reg:5000/acct', contentRef: 'reg:5000/acct:c-1', imageId: D('1'), pushed: false, ...extra }) as ImageReceipt;

describe('placementPlatforms (Placement.Platforms from the receipt of a pushed index)', () => {
  it.each<[string, Partial<ImageReceipt>, { Architecture: string; OS: string }[]]>([
    [
      'a pushed two-platform index',
      {
        pushed: true,
        registryDigest: `reg:5000/acct@${D('a')}`,
        indexDigest: D('a'),
        platforms: [
          { platform: 'linux/amd64', configDigest: D('b') },
          { platform: 'linux/arm64', configDigest: D('c') },
          { platform: 'linux/arm/v7', configDigest: D('d') },
        ],
      },
      [
        { Architecture: 'amd64', OS: 'linux' },
        { Architecture: 'arm64', OS: 'linux' },
        { Architecture: '', OS: 'linux' },
      ],
    ],
    [
      'arm/v6 and arm/v7 (a Raspberry Pi reports armv6l / armv7l): one entry, architecture left open',
      {
        pushed: true,
        registryDigest: `reg:5000/acct@${D('a')}`,
        indexDigest: D('a'),
        platforms: [
          { platform: 'linux/arm/v6', configDigest: D('b') },
          { platform: 'linux/arm/v7', configDigest: D('c') },
        ],
      },
      [{ Architecture: '', OS: 'linux' }],
    ],
    ['loaded, not pushed', { platforms: [{ platform: 'linux/amd64', configDigest: D('b') }] }, []],
    ['pushed by the engine builder (no index)', { pushed: true, registryDigest: `reg:5000/acct@${D('a')}` }, []],
  ])('%s', (_t, extra, expected) => {
    expect(placementPlatforms(chooseImage(undefined, receipt(extra))!)).toEqual(expected);
  });

  it('a two-platform index receipt: the spec pins the index digest and Placement.Platforms has both platforms', () => {
    const chosen = chooseImage(
      undefined,
      receipt({
        pushed: true,
        registryDigest: `reg:5000/acct@${D('a')}`,
        indexDigest: D('a'),
        platforms: [
          { platform: 'linux/amd64', configDigest: D('b'), manifestDigest: D('e') },
          { platform: 'linux/arm64', configDigest: D('c'), manifestDigest: D('f') },
        ],
      }),
    )!;
    expect(chosen.ref).toBe(`reg:5000/acct:c-1@${D('a')}`);
    const spec = buildServiceSpec(normalizeDeployOptions({ service: 'acct' }, { projectName: 'acct' }), {
      image: chosen.ref,
      platforms: placementPlatforms(chosen),
    });
    expect(spec.TaskTemplate.ContainerSpec.Image).toBe(`reg:5000/acct:c-1@${D('a')}`);
    expect(spec.TaskTemplate.Placement).toEqual({
      Platforms: [
        { Architecture: 'amd64', OS: 'linux' },
        { Architecture: 'arm64', OS: 'linux' },
      ],
    });
  });

  it('an explicit image reference sets no platforms', () => {
    expect(placementPlatforms(chooseImage(`reg:5000/acct@${D('a')}`, undefined)!)).toEqual([]);
  });

  it('goes into the service spec next to the constraints', () => {
    const o = normalizeDeployOptions({ service: 'acct', constraints: ['node.role==worker'] }, { projectName: 'acct' });
    const spec = buildServiceSpec(o, { image: 'x', platforms: [{ Architecture: 'arm64', OS: 'linux' }] });
    expect(spec.TaskTemplate.Placement).toEqual({ Platforms: [{ Architecture: 'arm64', OS: 'linux' }], Constraints: ['node.role==worker'] });
    expect(
      buildServiceSpec(normalizeDeployOptions({ service: 'acct' }, { projectName: 'acct' }), { image: 'x' }).TaskTemplate.Placement,
    ).toBeUndefined();
  });
});
