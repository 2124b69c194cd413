import { CacheBackend } from '../backends/cache-backend.interface';
import { DecryptionFailedError } from './decryption-failed.error';
import { isProvider, ResolvedEncryption } from './encryption-options';
import { DecryptedPayload } from './encryption-provider.interface';
import { KeyRotationListener, NamespaceCipher } from './namespace-cipher';
import { InvalidArgumentError } from '../errors/invalid-argument.error';

/** The namespace's cipher, or null when encryption is off. Re-sealed entries are reported to `events` (`keyRotated`). */
export function createNamespaceCipher(options: { name: string; encryption?: ResolvedEncryption }, events?: KeyRotationListener): NamespaceCipher | null {
  const encryption = options.encryption;
  if (encryption === undefined) return null;
  const { provider } = encryption;
  // Never fall back to plaintext: a provider the registry has not instantiated is a wiring bug.
  if (!isProvider(provider)) throw new InvalidArgumentError(`namespace "${options.name}": encryption provider "${(provider as { registered?: string }).registered}" was not instantiated`);
  return new NamespaceCipher(options.name, { provider, reencryptOnRead: encryption.reencryptOnRead }, events);
}

/**
 * Opens a payload read from the backend. A payload that does not authenticate as this entry's is
 * never returned: it is deleted, reported through `onTamper`, and read as a miss (undefined). A
 * payload sealed with an older key is sealed again with the newest, in place and keeping its TTL,
 * when `reencryptOnRead` is on and the backend can replace a value only if it is unchanged (so a
 * newer write in between is never overwritten), and reported as a `keyRotated` event once it is
 * replaced. The common case (authentic, current key) returns
 * the text synchronously, sparing the read path a promise.
 */
export function readSealed(
  cipher: NamespaceCipher, backend: CacheBackend, key: string, payload: string,
  onTamper: (key: string, reason: string) => void,
  /** What the payload was sealed for, when more than the key (a tier's envelope); `key` by default. */
  sealedFor: string = key,
): string | Promise<string | undefined> {
  let opened;
  try {
    opened = cipher.open(payload, sealedFor);
  } catch (error) {
    return dropTampered(backend, key, payload, (error as DecryptionFailedError).reason, onTamper);
  }
  if (opened.stale && cipher.reencryptOnRead && typeof backend.replaceIfUnchanged === 'function') {
    return reseal(cipher, backend, key, payload, opened, sealedFor);
  }
  return opened.plaintext;
}

async function dropTampered(backend: CacheBackend, key: string, payload: string, reason: string, onTamper: (key: string, reason: string) => void): Promise<undefined> {
  try {
    await dropEntry(backend, key, payload);
  } catch {
    // Still a miss; the entry will expire or be overwritten.
  }
  onTamper(key, reason);
  return undefined;
}

async function reseal(cipher: NamespaceCipher, backend: CacheBackend, key: string, payload: string, opened: DecryptedPayload, sealedFor: string): Promise<string> {
  let replaced = false;
  try {
    replaced = await backend.replaceIfUnchanged!(key, payload, cipher.seal(opened.plaintext, sealedFor));
  } catch {
    // The read itself succeeded; the next read tries again.
  }
  // Not replaced: a newer write (sealed with the newest key) or a delete got there first.
  if (replaced) cipher.rotated(key, opened);
  return opened.plaintext;
}

/**
 * Deletes an entry that was read as `payload` and found bad: only if it still holds it, where the
 * backend can tell (a newer write that landed after the read is kept); by key otherwise.
 */
export async function dropEntry(backend: CacheBackend, key: string, payload: string): Promise<void> {
  if (typeof backend.deleteIfUnchanged === 'function') await backend.deleteIfUnchanged(key, payload);
  else await backend.delete(key);
}
