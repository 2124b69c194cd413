import { IsArray, IsBoolean, IsInt, IsNotEmpty, IsOptional, IsString, Max, Min } from 'class-validator';
import { OptionProblem } from '../errors/invalid-options.error';
import { AesGcmEncryptionProvider } from './aes-gcm-encryption-provider';
import { EncryptionProvider } from './encryption-provider.interface';
import { EncryptionKeyInput } from './encryption-keys';
import { FernetEncryptionProvider } from './fernet-encryption-provider';
import { InvalidEncryptionKeyError } from './invalid-encryption-key.error';
import { SODIUM_MISSING, XChaCha20Poly1305EncryptionProvider, xchachaAvailable } from './xchacha20-poly1305-encryption-provider';

export const BUILT_IN_ENCRYPTION_PROVIDERS = ['aes-256-gcm', 'fernet', 'xchacha20-poly1305'] as const;

/** `namespaces.<name>.encryption` (or `defaults.encryption`). Applies to backends that store bytes. */
export interface NamespaceEncryptionOptions {
  /** Default true when the object is given; `false` (or `encryption: false`) turns it off. */
  enabled?: boolean;
  /**
   * `'aes-256-gcm'` (default), `'xchacha20-poly1305'` (recommended where the optional sodium-native
   * package is installed), `'fernet'`, or a name registered under the module's `encryptionProviders`.
   */
  provider?: string;
  /** Built-in providers: the keys, newest first (`keys[0]` encrypts, every key decrypts). */
  keys?: EncryptionKeyInput[];
  /** Seal again with the newest key, in place (TTL kept), an entry read that an older key sealed. Default false. */
  reencryptOnRead?: boolean;
  /** Fernet only: refuse tokens older than this (seconds). */
  ttlSeconds?: number;
  /** Fernet only: bind tokens to namespace and key (see `FernetEncryptionProvider`). Default false. */
  bindContext?: boolean;
}

export class NamespaceEncryptionOptionsDto {
  @IsOptional() @IsBoolean()
  enabled?: boolean;

  @IsOptional() @IsString() @IsNotEmpty()
  provider?: string;

  @IsOptional() @IsArray()
  keys?: unknown;

  @IsOptional() @IsBoolean()
  reencryptOnRead?: boolean;

  @IsOptional() @IsInt() @Min(1) @Max(10 * 365 * 24 * 3600)
  ttlSeconds?: number;

  @IsOptional() @IsBoolean()
  bindContext?: boolean;
}

/** A namespace's encryption once resolved: a provider, or the name of one the registry instantiates (a class). */
export interface ResolvedEncryption {
  readonly provider: EncryptionProvider | { readonly registered: string };
  readonly reencryptOnRead: boolean;
}

const isBuiltIn = (name: string): boolean => (BUILT_IN_ENCRYPTION_PROVIDERS as readonly string[]).includes(name);

/**
 * Checks one namespace's `encryption` options (after the DTO) and builds its built-in provider, so
 * that a missing, short or weak key fails the start with the option's path. Reports to `problems`
 * and returns undefined when encryption is off or invalid.
 */
export function resolveNamespaceEncryption(
  input: unknown, path: string, registered: Record<string, unknown>, problems: OptionProblem[],
): ResolvedEncryption | undefined {
  if (input === undefined || input === false) return undefined;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    problems.push({ path, reason: 'must be an object { provider?, keys, reencryptOnRead? } or false' });
    return undefined;
  }
  const options = input as NamespaceEncryptionOptions;
  if (options.enabled === false) return undefined;
  const provider = options.provider ?? 'aes-256-gcm';
  const reencryptOnRead = options.reencryptOnRead ?? false;
  if (provider !== 'fernet') {
    for (const field of ['ttlSeconds', 'bindContext'] as const) {
      if (options[field] !== undefined) problems.push({ path: `${path}.${field}`, reason: 'applies to provider "fernet" only' });
    }
  }
  if (!isBuiltIn(provider)) {
    if (!Object.hasOwn(registered, provider)) {
      problems.push({ path: `${path}.provider`, reason: `unknown encryption provider "${provider}"; use ${BUILT_IN_ENCRYPTION_PROVIDERS.map((p) => `"${p}"`).join(', ')} or a name registered under "encryptionProviders"` });
      return undefined;
    }
    if (options.keys !== undefined) {
      problems.push({ path: `${path}.keys`, reason: `are for the built-in providers; "${provider}" manages its own keys` });
      return undefined;
    }
    const instance = registered[provider];
    return { provider: typeof instance === 'function' ? { registered: provider } : (instance as EncryptionProvider), reencryptOnRead };
  }
  if (provider === 'xchacha20-poly1305' && !xchachaAvailable()) {
    problems.push({ path: `${path}.provider`, reason: SODIUM_MISSING });
    return undefined;
  }
  try {
    const built = provider === 'fernet'
      ? new FernetEncryptionProvider({ keys: options.keys!, ttlSeconds: options.ttlSeconds, bindContext: options.bindContext })
      : provider === 'xchacha20-poly1305'
        ? new XChaCha20Poly1305EncryptionProvider({ keys: options.keys! })
        : new AesGcmEncryptionProvider({ keys: options.keys! });
    return { provider: built, reencryptOnRead };
  } catch (error) {
    if (!(error instanceof InvalidEncryptionKeyError)) throw error;
    problems.push({ path: error.path ? `${path}.${error.path}` : path, reason: error.reason });
    return undefined;
  }
}

/**
 * Whether `input` turns on a built-in provider whose payloads are not bound to the key they were
 * written under (Fernet without `bindContext: true`): a payload copied in the store from one key to
 * another opens there. A namespace scoped per user or tenant cannot have that, or one owner's entry
 * copied onto another owner's key would be served to that owner.
 */
export function leavesKeyUnbound(input: unknown): boolean {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return false;
  const options = input as NamespaceEncryptionOptions;
  return options.enabled !== false && options.provider === 'fernet' && options.bindContext !== true;
}

/** Checks the module's `encryptionProviders`: instances implementing `EncryptionProvider`, or classes. */
export function checkEncryptionProviders(providers: Record<string, unknown>, problems: OptionProblem[]): void {
  for (const [name, provider] of Object.entries(providers)) {
    if (isBuiltIn(name)) {
      problems.push({ path: `encryptionProviders.${name}`, reason: `"${name}" is a built-in provider name; pick another` });
    } else if (typeof provider !== 'function' && !isProvider(provider)) {
      problems.push({ path: `encryptionProviders.${name}`, reason: 'must be an EncryptionProvider (an object with name, encrypt() and decrypt()) or a class implementing it' });
    }
  }
}

export function isProvider(value: unknown): value is EncryptionProvider {
  const p = value as Partial<EncryptionProvider> | null;
  return p !== null && typeof p === 'object' && typeof p.encrypt === 'function' && typeof p.decrypt === 'function' && typeof p.name === 'string';
}
