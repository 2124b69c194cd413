import { AdditionalData } from './additional-data';

/** `header ‖ namespace ‖ 0x00 ‖ key`, built from scratch. */
const expected = (header: Buffer, namespace: string, key: string): Buffer => Buffer.concat([header, Buffer.from(namespace), Buffer.from([0]), Buffer.from(key)]);

describe('AdditionalData', () => {
  it('gives header ‖ namespace ‖ 0 ‖ key whatever the previous call held (namespaces, headers and key lengths alternating)', () => {
    const aad = new AdditionalData();
    const h1 = Buffer.from([2, 2, 0x6b, 0x31]);
    const h2 = Buffer.from([2, 3, 0x6b, 0x32, 0x32]);
    const calls: [Buffer, string, string][] = [
      [h1, 'users', 'user:1'],
      [h1, 'users', 'user:22'],
      [h1, 'tracks', 'user:1'],
      [h2, 'tracks', 'user:1'],
      [Buffer.from(h2), 'tracks', 'ü:é'],
      [h1, 'users', 'k'.repeat(400)],
      [h1, 'users', 'x'],
      [h2, 'ñ'.repeat(200), 'y'],
      [h1, 'users', 'user:1'],
    ];
    for (const [header, namespace, key] of calls) {
      expect(aad.of(header, { namespace, key }).equals(expected(header, namespace, key))).toBe(true);
    }
  });
});
