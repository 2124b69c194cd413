/**
 * Every error the library throws is a `CacheError` with a stable `code`: each formerly built-in
 * `TypeError`/`RangeError`/`Error` is provoked here through the public API, and a scan of the sources
 * keeps new ones from appearing.
 */
import { ForbiddenException, Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { MapBackendFactory } from '../../test/map-backend.fixture';
import {
  CacheAccessDeniedError, CacheAdminModule, Cacheable, CacheDecoratorError, CacheError, CacheManagerStoreBackendFactory, CacheModule,
  CacheService, CachekitKeyvStore, ContractViolationError, EncryptionProvider, encodeKeyPart, FaultInjectionBackend, Fernet,
  formatCacheKey, InvalidArgumentError, InvalidKeyError, LruStrategy, MemoryBackend, MsgpackSerializer, TaggedJsonSerializer, UnsupportedValueError,
  Warmup, WarmupService,
} from '../index';

/** The error `run` throws (or rejects with). */
async function caught(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

async function app(options: Parameters<typeof CacheModule.forRoot>[0], providers: any[] = []) {
  const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot(options)], providers }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('every error the library throws is a CacheError with a stable code', () => {
  it('bad arguments are InvalidArgumentError (CACHE_INVALID_ARGUMENT), with their messages kept', async () => {
    const moduleRef = await app({});
    const cache = moduleRef.get(CacheService).namespace('default');
    const cases: [() => unknown, RegExp][] = [
      [() => cache.getOrSet('k', 'not a function' as never), /getOrSet\(\) in namespace "default": loader must be a function/],
      [() => cache.mget('k' as never), /mget\(\) in namespace "default": keys must be an array/],
      [() => cache.mset({} as never), /mset\(\) in namespace "default": entries must be an array/],
      [() => cache.mset([null] as never), /entries\[0\] must be \{ key, value, ttl\? \}/],
      [() => formatCacheKey('', {}), /^formatCacheKey: the template must be a non-empty string$/],
      [() => encodeKeyPart(Symbol('s')), /^a key cannot hold a symbol$/],
      [() => new CachekitKeyvStore(undefined as never), /CachekitKeyvStore needs a cache namespace/],
      [() => new CacheManagerStoreBackendFactory({} as never), /needs a cache-manager store with get\(\), set\(\) and del\(\)/],
      [() => CacheAdminModule.register({ roles: 'admin' as never }), /roles must be an array of role names/],
      [() => new Fernet(Fernet.generateKey()).encrypt(42 as never), /^Fernet.encrypt: data must be a Buffer or a string$/],
      [() => new MemoryBackend({ maxEntries: 0 }), /maxEntries must be an integer >= 1/],
      [() => new MemoryBackend({ maxEntries: 1 }).set('k', 'v', 0, -1), /sizeBytes must be an integer from 0 to 2\^32-1/],
      [() => new FaultInjectionBackend(new MemoryBackend({ maxEntries: 1 }), { failureRate: 2 }, 'users'), /failureRate must be between 0 and 1/],
    ];
    for (const [run, message] of cases) {
      const error = await caught(run);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toBeInstanceOf(CacheError);
      expect(error).toMatchObject({ code: 'CACHE_INVALID_ARGUMENT', name: 'InvalidArgumentError', message: expect.stringMatching(message) });
    }
    await moduleRef.close();
  });

  it('a decorator applied wrongly is a CacheDecoratorError (CACHE_DECORATOR_MISUSE), at class definition', async () => {
    const error = await caught(() => {
      class Catalog {
        @Cacheable({ key: 'track:{missing}' })
        async track(_id: string): Promise<string> {
          return 't';
        }
      }
      return Catalog;
    });
    expect(error).toBeInstanceOf(CacheDecoratorError);
    expect(error).toBeInstanceOf(CacheError);
    expect(error).toMatchObject({ code: 'CACHE_DECORATOR_MISUSE', message: expect.stringMatching(/^@Cacheable on Catalog.track: .*\{missing\}/) });
  });

  it('a plugged-in part that breaks its contract is a ContractViolationError (CACHE_CONTRACT_VIOLATION)', async () => {
    // An encryption provider that returns a Buffer.
    const provider: EncryptionProvider = {
      name: 'buffers',
      encrypt: (text) => Buffer.from(text) as never,
      decrypt: (payload) => ({ plaintext: payload, stale: false }),
    };
    const sealed = await app({ backends: { map: new MapBackendFactory() }, encryptionProviders: { buffers: provider }, namespaces: { s: { backend: 'map', encryption: { provider: 'buffers' } } } });
    const refused = await caught(() => sealed.get(CacheService).namespace('s').set('k', 'v'));
    expect(refused).toBeInstanceOf(ContractViolationError);
    expect(refused).toMatchObject({ code: 'CACHE_CONTRACT_VIOLATION', message: 'encryption provider "buffers" returned a object, not a string' });
    await sealed.close();

    // An eviction strategy that names a slot holding no entry.
    const lru = new LruStrategy();
    const broken = Object.assign(Object.create(lru) as LruStrategy, { victim: () => 5 });
    const memory = new MemoryBackend({ maxEntries: 1, strategy: broken });
    memory.set('a', 1, 0, 1);
    const evicted = await caught(() => memory.set('b', 2, 0, 1));
    expect(evicted).toBeInstanceOf(ContractViolationError);
    expect(evicted).toMatchObject({ message: expect.stringMatching(/named slot 5, which holds no entry/) });

    // A @Warmup method that returns something other than entries, a count or nothing: reported by class and code.
    @Injectable()
    class Loader {
      @Warmup()
      load(): string {
        return 'not entries';
      }
    }
    const warm = await app({}, [Loader]);
    expect(warm.get(WarmupService).results()[0]).toMatchObject({ ok: false, error: 'ContractViolationError (CACHE_CONTRACT_VIOLATION)' });
    await warm.close();
  });

  it('the serializer refuses and fails with CacheErrors (CACHE_UNSUPPORTED_VALUE, CACHE_PROTOTYPE_KEY, CACHE_CORRUPT_PAYLOAD)', async () => {
    const serializer = new TaggedJsonSerializer();
    const cases: [() => unknown, string, string][] = [
      [() => serializer.serialize({ f: () => 1 }), 'UnsupportedValueError', 'CACHE_UNSUPPORTED_VALUE'],
      [() => serializer.deserialize('{"a":{"__proto__":{"admin":true}}}'), 'PrototypeKeyError', 'CACHE_PROTOTYPE_KEY'],
      [() => serializer.deserialize('{"$t":"NoSuchType","v":1}'), 'CorruptPayloadError', 'CACHE_CORRUPT_PAYLOAD'],
    ];
    for (const [run, name, code] of cases) {
      const error = await caught(run);
      expect(error).toBeInstanceOf(CacheError);
      // The log's `reason=` of a dropped entry is the class name: unchanged.
      expect(error).toMatchObject({ name, code });
    }
    expect(await caught(cases[0][0])).toBeInstanceOf(UnsupportedValueError);
  });

  it('the msgpack serializer refuses and fails with the same CacheErrors, whatever msgpackr throws', async () => {
    const serializer = new MsgpackSerializer();
    const packed = Buffer.from(serializer.serializeBytes({ a: 1 }));
    const cases: [() => unknown, string, string][] = [
      [() => serializer.serializeBytes({ s: Symbol('s') }), 'UnsupportedValueError', 'CACHE_UNSUPPORTED_VALUE'],
      // { constructor: 1 } as MessagePack: fixmap of one, fixstr "constructor", 1
      [() => serializer.deserializeBytes(Buffer.from([0x81, 0xab, ...Buffer.from('constructor'), 0x01])), 'PrototypeKeyError', 'CACHE_PROTOTYPE_KEY'],
      [() => serializer.deserializeBytes(packed.subarray(0, 2)), 'CorruptPayloadError', 'CACHE_CORRUPT_PAYLOAD'],
      [() => serializer.deserializeBytes(Buffer.alloc(100_000, 0x91)), 'CorruptPayloadError', 'CACHE_CORRUPT_PAYLOAD'],
    ];
    for (const [run, name, code] of cases) {
      const error = await caught(run);
      expect(error).toBeInstanceOf(CacheError);
      expect(error).toMatchObject({ name, code });
    }
  });

  it('CacheAccessDeniedError stays a Nest ForbiddenException (403) and is a CacheError', () => {
    const denied = new CacheAccessDeniedError('users', 'get', 'u1', 'needs "read"');
    expect(denied).toBeInstanceOf(ForbiddenException);
    expect(denied.getStatus()).toBe(403);
    expect(denied).toBeInstanceOf(CacheError);
    expect(denied.code).toBe('CACHE_ACCESS_DENIED');
  });

  it('instanceof a subclass stays exact; instanceof CacheError holds for nothing else', () => {
    const error = new InvalidArgumentError('x');
    expect(error).not.toBeInstanceOf(InvalidKeyError);
    expect(error).not.toBeInstanceOf(CacheAccessDeniedError);
    for (const other of [new Error('x'), new TypeError('x'), new ForbiddenException(), { code: 'CACHE_X' }, null, 'CACHE_X']) {
      expect(other instanceof CacheError).toBe(false);
    }
  });

  it('no source file throws a built-in error or declares an error class outside CacheError', () => {
    const root = join(__dirname, '..');
    // Built-in errors made but never thrown to a caller: each is a cause that a CacheError wraps, or
    // internal control flow caught where it is thrown. Matched by line, wherever the file moves.
    const allowed = [
      /abstract class CacheError extends Error/, // the base itself
      /new Error\(`Redis Cluster is not ready/, // cluster-commands: cause of BackendUnavailableError
      /new Error\('QUIT timed out'\)/, // redis-connection-pool: caught by close()
      /new Error\('the cache-manager store has no keys\(\)/, // cache-manager-store: cause of BackendUnavailableError
      /new BackendUnavailableError\(.*new Error\(reason\)\)/, // fault injection: cause of BackendUnavailableError
      /class UnsharedResponse extends Error/, // response-caching: caught where thrown
    ];
    const offending: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts') && !name.endsWith('.spec.ts')) {
          readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
            if (!/new (Error|TypeError|RangeError|SyntaxError)\(|extends (Error|TypeError|RangeError)\b/.test(line)) return;
            if (allowed.some((pattern) => pattern.test(line))) return;
            offending.push(`${relative(root, path)}:${i + 1}: ${line.trim()}`);
          });
        }
      }
    };
    walk(root);
    expect(offending).toEqual([]);
  });
});
