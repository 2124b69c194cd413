import { InvalidOptionsError } from '../errors/invalid-options.error';
import { redisOptionsFromEnv } from '../backends/redis/topology/redis-options-from-env';
import { CacheModuleOptions } from './cache-module-options.interface';
import { resolveCacheOptions } from './resolve-cache-options';

function problems(options: CacheModuleOptions): string[] {
  try {
    resolveCacheOptions(options);
    return [];
  } catch (error) {
    if (!(error instanceof InvalidOptionsError)) throw error;
    return error.problems.map((p) => `${p.path}: ${p.reason}`);
  }
}

describe('Redis topology options', () => {
  it('accepts Sentinel and Cluster shapes', () => {
    expect(problems({ redis: { sentinel: { name: 'mymaster', sentinels: ['127.0.0.1:26379', { host: '127.0.0.1', port: 26380 }], sentinelPassword: 's' }, password: 'p' } })).toEqual([]);
    expect(problems({ redis: { cluster: { nodes: ['redis://127.0.0.1:7000'], natMap: { '10.0.0.1:7000': { host: '127.0.0.1', port: 7000 } } }, pool: { commandConnections: 2 } } })).toEqual([]);
  });

  it('names the field of each bad address, and never echoes a sentinel password', () => {
    const found = problems({ redis: { sentinel: { name: '', sentinels: ['127.0.0.1:26379', 'nope', { host: 'h', port: 70_000 }], sentinelPassword: 42 as never } } });
    expect(found.some((p) => p.startsWith('redis.sentinel.name:'))).toBe(true);
    expect(found.some((p) => p.startsWith('redis.sentinel.sentinels[1]:'))).toBe(true);
    expect(found.some((p) => p.startsWith('redis.sentinel.sentinels[2]:'))).toBe(true);
    expect(found.find((p) => p.startsWith('redis.sentinel.sentinelPassword:'))).not.toMatch(/42/);
    expect(problems({ redis: { cluster: { nodes: [] } } }).some((p) => p.startsWith('redis.cluster.nodes:'))).toBe(true);
  });

  it('never echoes a node address that carries credentials', () => {
    const found = problems({ redis: { cluster: { nodes: ['redis://:S3cret-pw@10.0.0.1:6379', 'redis://admin:S3cret-pw@10.0.0.2:6379'] } } });
    expect(found.filter((p) => /^redis\.cluster\.nodes\[[01]\]: .*credentials belong in redis\.username/.test(p))).toHaveLength(2);
    expect(found.join('\n')).not.toContain('S3cret');
  });

  it('refuses mixed topologies, a url with a cluster, db > 0 on a cluster and a bad pool size', () => {
    expect(problems({ redis: { sentinel: { name: 'm', sentinels: ['h:1'] }, cluster: { nodes: ['h:2'] } } })[0]).toMatch(/^redis\.cluster: cannot be combined/);
    const found = problems({ redis: { cluster: { nodes: ['h:2'] }, url: 'redis://h:3', db: 2, pool: { commandConnections: 0 } } });
    expect(found.some((p) => p.startsWith('redis.url:'))).toBe(true);
    expect(found.some((p) => p.startsWith('redis.db: must be 0'))).toBe(true);
    expect(found.some((p) => p.startsWith('redis.pool.commandConnections:'))).toBe(true);
  });
});

describe('redis.url and redis.host', () => {
  it.each([
    ['redis://ada:S3cret-pw@cache-7.internal:99999', /has a port that is not a number from 1 to 65535/],
    ['redis://ada:S3cret-pw@cache-7.internal:0', /has a port that is not a number from 1 to 65535/],
    ['redis://ada:S3cret-pw@cache-7.internal:abc', /has a port that is not a number from 1 to 65535/],
    ['redis://ada:S3cret-pw@[::1:6379', /has a port that is not a number from 1 to 65535/],
    ['redis://ada:S3cret-pw@cache 7.internal:6379', /cannot be parsed as a URL/],
    ['redis://ada:S3cret-pw@:6379', /cannot be parsed as a URL/],
    ['redis://ada:S3cret-pw@cache%207.internal:6379', /has a host with spaces/],
    ['redis://ada:S3cret%ZZpw@cache-7.internal:6379', /not valid percent-encoding/],
    ['redis://:S3cret#pw@cache-7.internal:6379', /has "\/", "\?" or "#" in its user name or password/],
    ['redis://:S3cret-pw@cache-7.internal:6379/zero', /has a path that is not a database number/],
    ['http://ada:S3cret-pw@cache-7.internal:6379', /must start with redis:\/\/ or rediss:\/\//],
  ])('refuses %s under redis.url, without quoting any of it', (url, reason) => {
    const found = problems({ redis: { url } });
    expect(found).toEqual([expect.stringMatching(/^redis\.url: /)]);
    expect(found[0]).toMatch(reason);
    expect(found[0]).not.toMatch(/S3cret|ada|cache-7/);
  });

  it.each([
    'redis://localhost', 'redis://127.0.0.1:6379/', 'rediss://cache:p%40ss@[::1]:6380/3?family=6', 'redis://user:p@ss@redis_primary:6379/2', 'REDIS://h:1',
  ])('accepts %s', (url) => {
    expect(problems({ redis: { url } })).toEqual([]);
  });

  it('refuses a URL or credentials in redis.host', () => {
    expect(problems({ redis: { host: 'redis://ada:S3cret-pw@h' } })).toEqual([expect.stringMatching(/^redis\.host: must be a host name or an IP address/)]);
    expect(problems({ redis: { host: 'ada:S3cret-pw@h' } }).join('\n')).not.toContain('S3cret');
    expect(problems({ redis: { host: '::1' } })).toEqual([]);
  });
});

describe('redisOptionsFromEnv', () => {
  it('reads each topology from its variables, and nothing when none is set', () => {
    expect(redisOptionsFromEnv({})).toBeUndefined();
    expect(redisOptionsFromEnv({ REDIS_URL: ' ' })).toBeUndefined();
    expect(redisOptionsFromEnv({ REDIS_URL: 'redis://127.0.0.1:6380' })).toEqual({ url: 'redis://127.0.0.1:6380' });
    expect(redisOptionsFromEnv({ REDIS_SENTINELS: '127.0.0.1:26379, 127.0.0.1:26380', REDIS_SENTINEL_NAME: 'mymaster', REDIS_PASSWORD: 'pw' }))
      .toEqual({ sentinel: { name: 'mymaster', sentinels: ['127.0.0.1:26379', '127.0.0.1:26380'] }, password: 'pw' });
    expect(redisOptionsFromEnv({ REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001', REDIS_TLS: 'true' }))
      .toEqual({ cluster: { nodes: ['127.0.0.1:7000', '127.0.0.1:7001'] }, tls: true });
  });

  it('fails with the variable name when REDIS_SENTINEL_NAME is missing or topologies are mixed', () => {
    expect(() => redisOptionsFromEnv({ REDIS_SENTINELS: '127.0.0.1:26379' })).toThrow(/REDIS_SENTINEL_NAME/);
    expect(() => redisOptionsFromEnv({ REDIS_SENTINELS: 'h:1', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'h:2' })).toThrow(/REDIS_CLUSTER_NODES/);
  });

  it('checks REDIS_URL, naming the variable and never quoting it', () => {
    let error: unknown;
    try {
      redisOptionsFromEnv({ REDIS_URL: 'redis://user:S3cret-pw@redis.internal:99999' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).problems).toEqual([{ path: 'REDIS_URL', reason: 'has a port that is not a number from 1 to 65535' }]);
    expect((error as Error).message).not.toContain('S3cret');
  });
});
