import { Test } from '@nestjs/testing';
import { CacheModule, CacheService } from 'nest-cachekit';
import { useRedisServer } from '../../../test/support/redis-server';

/**
 * `getOrSet` single-flight on a real redis-server: callers that arrive while a load of their key
 * runs share it. A caller that read the store first would send its GET ahead of the load's SET and
 * could get its miss back after the load has ended, and load again.
 */
describe('getOrSet single-flight on Redis', () => {
  const redis = useRedisServer();

  it('runs the loader once per key for callers arriving over the load, 100 keys in turn', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ redis: { url: redis.server.url }, namespaces: { users: { backend: 'redis' } } })],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const users = app.get(CacheService).namespace('users');
    const loadsPerKey: number[] = [];
    try {
      for (let k = 0; k < 100; k++) {
        let loads = 0;
        const loader = async (): Promise<number> => {
          loads++;
          await new Promise((resolve) => setTimeout(resolve, 2));
          return k;
        };
        // Ten callers spread over the load's 2 ms.
        const callers = Array.from({ length: 10 }, (_, i) => new Promise((resolve) => setTimeout(resolve, i % 3)).then(() => users.getOrSet(`user:${k}`, loader)));
        expect(await Promise.all(callers)).toEqual(Array(10).fill(k));
        loadsPerKey.push(loads);
      }
    } finally {
      await app.close();
    }
    expect(loadsPerKey.filter((n) => n !== 1)).toEqual([]);
  });
});
