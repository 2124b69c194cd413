import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { MapBackendFactory } from '../../test/map-backend.fixture';
import { MemoryBackend } from '../backends/memory/memory-backend';
import { CacheEvents } from '../events/cache-events';
import { CacheNamespace } from '../namespace/cache-namespace';
import { resolveCacheOptions } from '../options/resolve-cache-options';
import { createNamespaceCipher } from './create-namespace-cipher';

const encryption = { keys: [{ id: 'k1', key: randomBytes(32).toString('base64') }] };

describe('Encryption in the namespace pipeline', () => {
  it('seals what a custom byte backend stores, binds it to the key, and opens it on the way back', async () => {
    const options = resolveCacheOptions({ backends: { map: new MapBackendFactory() }, namespaces: { users: { backend: 'map', encryption } } }).namespaces.get('users')!;
    const factory = new MapBackendFactory();
    const backend = factory.create({ namespace: 'users', keyPrefix: options.keyPrefix, maxEntries: 10, maxBytes: 0, eviction: options.eviction });
    const events = new CacheEvents();
    const tampers: string[] = [];
    events.on('tamper', (e) => tampers.push(`${e.key}:${e.reason}`));
    const users = new CacheNamespace(options, backend, events);
    await users.set('u1', { email: 'zoe@example.com' });
    const stored = factory.store.get(`${options.keyPrefix}u1`)!.value;
    expect(stored).not.toContain('zoe@example.com');
    expect(await users.get('u1')).toEqual({ email: 'zoe@example.com' });
    factory.store.set(`${options.keyPrefix}u2`, { value: stored, expiresAt: 0 });
    expect(await users.get('u2')).toBeUndefined();
    expect(factory.store.has(`${options.keyPrefix}u2`)).toBe(false);
    expect(tampers).toEqual(['u2:authentication-failed']);
    expect(users.stats().tamperDetected).toBe(1);
  });

  it('counts and emits every tamper, and logs nothing itself (the module\'s observability logs the event, throttled)', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const options = resolveCacheOptions({ backends: { map: new MapBackendFactory() }, namespaces: { users: { backend: 'map', encryption } } }).namespaces.get('users')!;
      const factory = new MapBackendFactory();
      const hooks = new CacheEvents();
      const users = new CacheNamespace(options, factory.create({ namespace: 'users', keyPrefix: options.keyPrefix, maxEntries: 10, maxBytes: 0, eviction: options.eviction }), hooks);
      let events = 0;
      hooks.on('tamper', () => events++);
      for (const key of ['spotify:user:secret-1', 'spotify:user:secret-2']) {
        factory.store.set(`${options.keyPrefix}${key}`, { value: 'forged', expiresAt: 0 });
        expect(await users.get(key)).toBeUndefined();
      }
      expect(events).toBe(2);
      expect(users.stats().tamperDetected).toBe(2);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('leaves memory namespaces (live values, never leaving the process) unencrypted', async () => {
    const options = resolveCacheOptions({ namespaces: { users: { encryption } } }).namespaces.get('users')!;
    const users = new CacheNamespace(options, new MemoryBackend({ maxEntries: 10 }));
    const value = { email: 'zoe@example.com' };
    await users.set('u1', value);
    expect(await users.get('u1')).toBe(value);
    expect(users.stats().tamperDetected).toBeUndefined();
  });

  it('refuses to run with a registered provider that was never instantiated, instead of storing plaintext', () => {
    expect(() => createNamespaceCipher({ name: 'users', encryption: { provider: { registered: 'kms' }, reencryptOnRead: false } }))
      .toThrow(/encryption provider "kms" was not instantiated/);
  });
});
