/**
 * Where the tiers meet the security layers, on a real redis-server: RBAC and per-user scoping hold
 * on the L1 hit path of a tiered namespace, `valueSchema` checks what L2 hands back, and a tampered
 * L2 entry of an encrypted tiered namespace is audited without its raw key.
 */
import { Test, TestingModule } from '@nestjs/testing';
import { IsString } from 'class-validator';
import { randomBytes } from 'node:crypto';
import { sleep, useRedisServer } from '../../../test/support/redis-server';
import { AuditRecord } from '../src/audit/audit-record';
import { AuditSink } from '../src/audit/audit-sink';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { CacheModuleOptions } from '../src/options/cache-module-options.interface';
import { CacheAccessControl } from '../src/access/cache-access-control';
import { CacheAccessDeniedError } from '../src/access/cache-access-denied.error';

/** The bus secret every instance shares: a random key, as the module requires. */
const BUS_SECRET = randomBytes(32).toString('base64');
const KEY = randomBytes(32).toString('base64');

class ProfileDto {
  @IsString()
  name!: string;
}

class ListSink implements AuditSink {
  readonly records: AuditRecord[] = [];
  write(record: AuditRecord): void {
    this.records.push(record);
  }
}

interface Instance { moduleRef: TestingModule; cache: CacheService; access: CacheAccessControl; sink: ListSink }

async function startInstance(url: string): Promise<Instance> {
  const sink = new ListSink();
  const options: CacheModuleOptions = {
    redis: { url },
    bus: { secret: BUS_SECRET, heartbeat: '100ms' },
    observability: { metrics: false },
    audit: { sink, keyHashSecret: 'tiers-security-secret-0123' },
    rbac: {
      enabled: true,
      roles: {
        listener: { profiles: ['read'], library: ['read', 'write'] },
        editor: { profiles: ['read', 'write'], library: ['read', 'write'] },
      },
    },
    namespaces: {
      profiles: { backend: 'redis', ttl: '1h', l1: {}, valueSchema: { dto: ProfileDto }, encryption: { keys: [{ id: 'k1', key: KEY }] } },
      library: { backend: 'redis', ttl: '1h', l1: {}, scope: 'user' },
    },
  };
  const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot(options)] }).compile();
  await moduleRef.init();
  const cache = moduleRef.get(CacheService);
  const deadline = Date.now() + 5_000;
  while (cache.namespace('profiles').stats().bus?.connected !== true) {
    if (Date.now() > deadline) throw new Error('bus did not connect');
    await sleep(20);
  }
  return { moduleRef, cache, access: moduleRef.get(CacheAccessControl), sink };
}

describe('tiered namespaces with RBAC, scoping, value schemas and encryption', () => {
  const redis = useRedisServer({ flushBeforeEach: true });
  let a: Instance;
  let b: Instance;
  const editor = { id: 'ed', roles: ['editor'] };
  const listener = { id: 'li', roles: ['listener'] };
  const nobody = { id: 'no', roles: [] };

  beforeEach(async () => {
    [a, b] = [await startInstance(redis.server.url), await startInstance(redis.server.url)];
  });
  afterEach(async () => {
    await a.moduleRef.close();
    await b.moduleRef.close();
  });

  it('checks permissions on an L1 hit: a value in L1 is not read by a principal without "read"', async () => {
    await a.access.runAs(editor, () => a.cache.namespace('profiles').set('p1', { name: 'Ada' }));
    // The write filled a's L1: the next read is an L1 hit for those allowed, a denial for the others.
    expect(await a.access.runAs(listener, () => a.cache.namespace('profiles').get('p1'))).toEqual({ name: 'Ada' });
    expect(a.cache.namespace('profiles').stats().tiers?.l1?.hits).toBe(1);
    await expect(a.access.runAs(nobody, () => a.cache.namespace('profiles').get('p1'))).rejects.toThrow(CacheAccessDeniedError);
    await expect(a.access.runAs(listener, () => a.cache.namespace('profiles').set('p1', { name: 'Eve' }))).rejects.toThrow(CacheAccessDeniedError);
    expect(a.sink.records.filter((r) => r.outcome === 'denied').map((r) => [r.actor, r.action])).toEqual([['no', 'get'], ['li', 'set']]);
  });

  it('keeps each user\'s entries apart in L1 and L2 of a user-scoped tiered namespace', async () => {
    const alice = { id: 'alice', roles: ['listener'] };
    const bob = { id: 'bob', roles: ['listener'] };
    await a.access.runAs(alice, () => a.cache.namespace('library').set('favourites', ['t1']));
    expect(await a.access.runAs(alice, () => a.cache.namespace('library').get('favourites'))).toEqual(['t1']);
    expect(await a.access.runAs(bob, () => a.cache.namespace('library').get('favourites'))).toBeUndefined();
    expect(await b.access.runAs(alice, () => b.cache.namespace('library').get('favourites'))).toEqual(['t1']);
    expect(await b.access.runAs(bob, () => b.cache.namespace('library').get('favourites'))).toBeUndefined();
  });

  it('drops an L2 value that fails the valueSchema (a miss on the instance that reads it)', async () => {
    // A well-formed, correctly sealed entry whose value is not a ProfileDto: written by a's own
    // pipeline under a role that may write, then read by b from L2.
    const profiles = a.cache.namespace('profiles');
    await a.access.runAs(editor, () => profiles.set('p2', { name: 42 } as never));
    expect(await b.access.runAs(listener, () => b.cache.namespace('profiles').get('p2'))).toBeUndefined();
    expect(await redis.admin.exists('cache:{profiles}:p2')).toBe(0);
    expect(b.cache.namespace('profiles').stats().unreadableDropped).toBe(1);
  });

  it('audits a tampered L2 entry with a key hash, never the raw key', async () => {
    await a.access.runAs(editor, () => a.cache.namespace('profiles').set('user:alice@example.com', { name: 'Alice' }));
    await a.access.runAs(editor, () => a.cache.namespace('profiles').set('donor', { name: 'Mallory' }));
    await redis.admin.copy('cache:{profiles}:donor', 'cache:{profiles}:user:alice@example.com', 'REPLACE');
    expect(await b.access.runAs(listener, () => b.cache.namespace('profiles').get('user:alice@example.com'))).toBeUndefined();
    const tamper = b.sink.records.filter((r) => r.action === 'tamper');
    expect(tamper).toHaveLength(1);
    expect(tamper[0]).toMatchObject({ actor: 'li', namespace: 'profiles', outcome: 'detected', detail: { reason: 'authentication-failed' } });
    expect(tamper[0].keyHash).toMatch(/^[0-9a-f]{16,}$/);
    expect(JSON.stringify(b.sink.records)).not.toContain('alice@example.com');
  });
});
