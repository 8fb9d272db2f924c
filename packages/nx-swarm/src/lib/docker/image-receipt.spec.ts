import { ImageReceipt, imageIdentity, pushedRefs, receiptWrote } from './image-receipt';

const base: ImageReceipt = {
  repository: 'reg:5000/me/app',
  tags: ['latest'],
  contentTag: 'c-1',
  contentRef: 'reg:5000/me/app:c-1',
  contentDigest: 'abc',
  imageId: 'sha256:1',
  size: 1,
  pushed: false,
  built: false,
  createdAt: '2026-12-01T00:00:00Z',
};

describe('receiptWrote: did the image run change the engine or the registry', () => {
  it.each<[string, Partial<ImageReceipt>, boolean]>([
    ['found, nothing done', {}, false],
    ['built (or, OCI: uploaded or put something)', { built: true }, true],
    ['loaded now', { loaded: { platform: 'linux/amd64', imageId: 'sha256:1', loadedNow: true } }, true],
    ['load skipped', { loaded: { platform: 'linux/amd64', imageId: 'sha256:1', loadedNow: false } }, false],
    ['a tag moved', { tagsMoved: ['latest'] }, true],
    ['OCI push that only HEADed', { pushed: true, builder: 'oci' }, false],
    ['engine push (the daemon does not say)', { pushed: true, builder: 'engine' }, true],
  ])('%s → %s', (_name, patch, wrote) => expect(receiptWrote({ ...base, ...patch })).toBe(wrote));
});

it('pushedRefs: the content tag and each tag of a pushed image; none when not pushed', () => {
  expect(pushedRefs(base)).toEqual([]);
  expect(pushedRefs({ ...base, pushed: true, tags: ['latest', 'c-1'] })).toEqual(['reg:5000/me/app:c-1', 'reg:5000/me/app:latest']);
});

it('imageIdentity: the receipt without what only describes the run', () => {
  const a = imageIdentity({ ...base, built: true, tagsMoved: ['latest'], loaded: { platform: 'linux/amd64', imageId: 'sha256:1', loadedNow: true } });
  const b = imageIdentity({ ...base, createdAt: 'later', loaded: { platform: 'linux/amd64', imageId: 'sha256:1', loadedNow: false } });
  expect(a).toEqual(b);
  expect(a).not.toHaveProperty('createdAt');
  expect(imageIdentity({ ...base, imageId: 'sha256:2' })).not.toEqual(imageIdentity(base));
});
