/**
 * Threat: two apps (or a staging and a production deployment) share one Redis and, by copy-paste
 * of their configuration, one `bus.secret`, each on its own bus channel (`<keyPrefix>__bus`).
 * Someone who can listen on one app's channel and publish on the other's captures a genuine signed
 * invalidation of the first and publishes it on the second: within the replay window, the second
 * app's instances, which never heard from that sender, would drop their L1 copies (or whole L1s) of
 * the namespace of the same name. The MAC covers the channel a message is published on, so a message
 * of another channel is `forged` wherever the secret is shared.
 */
import Redis from 'ioredis';
import { useRedisServer } from '../support/redis-server';
import { startTieredApp, TieredApp, until } from './tiered-app.fixture';

async function readCalls(admin: Redis): Promise<number> {
  const info = await admin.info('commandstats');
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_(get|mget):calls=(\d+)/gm)) calls += Number(match[2]);
  return calls;
}

describe('invalidation bus: a message of one app replayed on another app\'s channel (shared secret)', () => {
  const redis = useRedisServer({ flushBeforeEach: true });
  const started: TieredApp[] = [];
  let spy: Redis;
  const captured: string[] = [];

  beforeEach(async () => {
    captured.length = 0;
    spy = new Redis({ host: '127.0.0.1', port: redis.server.port });
    spy.on('message', (_channel: string, wire: string) => captured.push(wire));
    await spy.subscribe('staging:__bus');
  });
  afterEach(async () => {
    spy.disconnect();
    await Promise.all(started.splice(0).map((app) => app.close()));
  });

  it('is refused as forged: the L1 copy of the other app stays', async () => {
    const start = async (keyPrefix: string) => {
      const app = await startTieredApp(redis.server.url, { keyPrefix });
      started.push(app);
      return app;
    };
    const [production, staging] = [await start('prod:'), await start('staging:')];
    await production.http().put('/profiles/p1').send({ name: 'prod-v1' }).expect(200);
    await until(async () => (await production.http().get('/profiles/p1')).body.profile?.name === 'prod-v1', 5_000, 'p1 read');

    await staging.http().put('/profiles/p1').send({ name: 'staging-v1' }).expect(200);
    let invalidation: string | undefined;
    await until(() => (invalidation = captured.find((w) => w.includes('"o":"k"') && w.includes('p1'))) !== undefined, 5_000, 'capture');

    const before = production.profiles.stats().bus!;
    await redis.admin.publish('prod:__bus', invalidation!);
    await until(() => {
      const bus = production.profiles.stats().bus!;
      return bus.forged + bus.received > before.forged + before.received;
    }, 5_000, 'the replay handled');
    expect(production.profiles.stats().bus).toMatchObject({ forged: before.forged + 1, received: before.received });

    const calls = await readCalls(redis.admin);
    expect((await production.http().get('/profiles/p1').expect(200)).body).toEqual({ profile: { name: 'prod-v1' } });
    expect(await readCalls(redis.admin)).toBe(calls); // still an L1 hit
  });
});
