import { InvalidArgumentError } from '../errors/invalid-argument.error';
import { isProvider, ResolvedEncryption } from './encryption-options';
import { KeyRotationListener, NamespaceCipher } from './namespace-cipher';

/** The namespace's cipher, or null when encryption is off. Re-sealed entries are reported to `events` (`keyRotated`). */
export function createNamespaceCipher(options: { name: string; encryption?: ResolvedEncryption }, events?: KeyRotationListener): NamespaceCipher | null {
  const encryption = options.encryption;
  if (encryption === undefined) return null;
  const { provider } = encryption;
  // Never fall back to plaintext: a provider the registry has not instantiated is a wiring bug.
  if (!isProvider(provider)) throw new InvalidArgumentError(`namespace "${options.name}": encryption provider "${(provider as { registered?: string }).registered}" was not instantiated`);
  return new NamespaceCipher(options.name, { provider, reencryptOnRead: encryption.reencryptOnRead }, events);
}
