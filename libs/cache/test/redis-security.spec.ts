/**
 * Redis transport security against real redis-server processes: mutual TLS (`tls-auth-clients yes`,
 * CA + client certificate), and the minimal ACL user, taken from docs/redis-topologies.md itself, so that
 * the documented line is the tested one: every command the library sends (encryption, tags,
 * re-encrypt-on-read and tamper clean-up included) is allowed, and the rest is denied.
 */
import { Test, TestingModule } from '@nestjs/testing';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, RedisServer, startRedisServer, useRedisServer } from '../../../test/support/redis-server';
import { makeTlsCertificates, TlsCertificates } from '../../../test/support/tls-certificates';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { BackendUnavailableError } from '../src/errors/backend-unavailable.error';
import { CacheModuleOptions } from '../src/options/cache-module-options.interface';

async function startCache(options: CacheModuleOptions): Promise<{ moduleRef: TestingModule; cache: CacheService }> {
  const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot(options)] }).compile();
  await moduleRef.init();
  return { moduleRef, cache: moduleRef.get(CacheService) };
}

describe('Redis over mutual TLS (tls-auth-clients yes)', () => {
  let certs: TlsCertificates;
  let other: TlsCertificates;
  let server: RedisServer;
  let tlsPort: number;

  beforeAll(async () => {
    certs = makeTlsCertificates();
    other = makeTlsCertificates();
    tlsPort = await freePort();
    server = await startRedisServer({
      args: ['--tls-port', String(tlsPort), '--tls-cert-file', certs.certFile, '--tls-key-file', certs.keyFile,
        '--tls-ca-cert-file', certs.caFile, '--tls-auth-clients', 'yes'],
    });
  });
  afterAll(async () => {
    await server.stop();
    certs.remove();
    other.remove();
  });

  it('works with the CA and a client certificate, and with rediss:// plus the same TLS settings', async () => {
    const tls = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
    const secure = await startCache({ redis: { host: '127.0.0.1', port: tlsPort, tls }, defaults: { backend: 'redis' } });
    await secure.cache.set('k', { secret: true });
    expect(await secure.cache.get('k')).toEqual({ secret: true });
    await secure.moduleRef.close();

    const viaUrl = await startCache({ redis: { url: `rediss://127.0.0.1:${tlsPort}`, tls }, defaults: { backend: 'redis' } });
    expect(await viaUrl.cache.get('k')).toEqual({ secret: true });
    await viaUrl.moduleRef.close();
  });

  it.each([
    ['without a client certificate', () => ({ ca: certs.ca })],
    ['with a client certificate from another CA', () => ({ ca: certs.ca, cert: other.clientCert, key: other.clientKey })],
    ['without the CA (server not verifiable)', () => ({ cert: certs.clientCert, key: certs.clientKey })],
  ])('refuses the connection %s', async (_case, tls) => {
    const started = await startCache({
      redis: { host: '127.0.0.1', port: tlsPort, tls: tls(), connectTimeoutMs: 1_000 },
      defaults: { backend: 'redis' },
    });
    await expect(started.cache.get('k')).rejects.toThrow(BackendUnavailableError);
    await started.moduleRef.close();
  });
});

/** The `ACL SETUSER` line of docs/redis-topologies.md ("TLS and a minimal ACL user"), split into arguments. */
function readmeAcl(): string[] {
  const page = readFileSync(join(__dirname, '../../../docs/redis-topologies.md'), 'utf8');
  const lines = page.split('\n').filter((l) => l.startsWith('ACL SETUSER cache on '));
  if (lines.length !== 1) throw new Error(`expected one "ACL SETUSER cache on" line in docs/redis-topologies.md, found ${lines.length}`);
  return lines[0].trim().split(/\s+/).slice(2);
}

describe('The documented minimal ACL user', () => {
  const password = 'cache-pw';
  const acl = readmeAcl().map((rule) => (rule === '>password' ? `>${password}` : rule));
  const redis = useRedisServer({ password: 'admin-pw', args: ['--user', ...acl] });

  beforeAll(async () => {
    await redis.admin.acl('LOG', 'RESET');
  });

  it('allows every command the library sends (nothing lands in ACL LOG), and each allowed command is one it sends', async () => {
    await redis.admin.config('RESETSTAT');
    const key = randomBytes(32).toString('base64');
    const oldKey = randomBytes(32).toString('base64');
    const url = `redis://cache:${password}@127.0.0.1:${redis.server.port}`;
    // Entries sealed with an older key, to exercise re-encrypt-on-read.
    const before = await startCache({ redis: { url }, namespaces: { users: { backend: 'redis', encryption: { keys: [{ id: 'old', key: oldKey }] } } } });
    await before.cache.namespace('users').set('migrating', 'm', { ttl: '1h' });
    await before.moduleRef.close();

    const { moduleRef, cache } = await startCache({
      redis: { url },
      namespaces: {
        users: { backend: 'redis', encryption: { keys: [{ id: 'new', key }, { id: 'old', key: oldKey }], reencryptOnRead: true } },
        tracks: { backend: 'redis' },
      },
    });
    const users = cache.namespace('users');
    await users.set('a', 1);
    await users.set('b', 2, { ttl: '1m', tags: ['artist:7'] });
    await users.set('c', 3, { tags: ['artist:8'] });
    await users.mset([{ key: 'd', value: 4 }, { key: 'e', value: 5, ttl: '1m', tags: ['artist:7'] }]);
    expect(await users.mget(['a', 'b', 'x'])).toEqual([1, 2, undefined]);
    expect(await users.get('migrating')).toBe('m');
    expect(await users.has('a')).toBe(true);
    expect(await users.getOrSet('f', () => 6)).toBe(6);
    expect(await users.invalidate('a')).toBe(true);
    expect(await users.invalidateTag('artist:7')).toBe(2);
    await redis.admin.copy('cache:{users}:c', 'cache:{users}:d', 'REPLACE');
    expect(await users.get('d')).toBeUndefined(); // tamper: deleted by the ACL user
    await cache.namespace('tracks').set('t', 'x');
    expect(await cache.namespace('tracks').get('t')).toBe('x');
    expect(await users.clear()).toBeGreaterThan(0);
    await moduleRef.close();

    expect(await redis.admin.acl('LOG')).toEqual([]);
    const stats = await redis.admin.info('commandstats');
    const called = new Set([...stats.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)].map((m) => m[1]));
    const allowed = readmeAcl().filter((r) => r.startsWith('+')).map((r) => r.slice(1));
    // Everything the ACL allows is used by the library; PING is there for health checks.
    expect(allowed.filter((command) => !called.has(command) && command !== 'ping')).toEqual([]);
  });

  it('denies what a cache has no business running, and keys outside its prefix', async () => {
    const user = new Redis({ host: '127.0.0.1', port: redis.server.port, username: 'cache', password, enableReadyCheck: false });
    try {
      expect(await user.ping()).toBe('PONG');
      for (const denied of [
        () => user.keys('*'), () => user.flushdb(), () => user.flushall(), () => user.config('GET', 'requirepass'),
        () => user.call('CLIENT', 'LIST'), () => user.call('SHUTDOWN'), () => user.call('ACL', 'LIST'),
        () => user.get('session:other-app'), () => user.set('other:key', 'x'), () => user.call('SCRIPT', 'FLUSH'),
        () => user.call('SELECT', '1'), () => user.call('SWAPDB', '0', '1'), () => user.call('MIGRATE', '127.0.0.1', '1', 'cache:x', '0', '100'),
      ]) {
        await expect(denied()).rejects.toThrow(/NOPERM/);
      }
    } finally {
      user.disconnect();
    }
  });
});
