/**
 * Threat: someone who can listen to the L1 invalidation bus (Redis pub/sub) captures a genuine signed
 * message and publishes it again later, to make instances drop their L1 copies (or whole L1s) at will.
 *
 * Two real Nest apps (`tiered-app.fixture.ts`) on one real redis-server; the attacker is a plain
 * ioredis client. A replayed message is refused by every instance that already accepted it, and by
 * every instance (a restarted one too) once it is older than `bus.replayWindow`; refusals are counted
 * (`replayed`, `outOfWindow`). And the documented ACL rules keep an untrusted Redis user from
 * publishing (or listening) on the bus channel at all.
 */
import Redis from 'ioredis';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, useRedisServer } from '../support/redis-server';
import { BUS_SECRET, startTieredApp, TieredApp, until } from './tiered-app.fixture';

const CHANNEL = 'cache:__bus';
const WINDOW_MS = 1_000;

/** A captured wire message's signed body (`<version>.<mac>.<json>`). */
function bodyOf(wire: string): { o: string; k?: string[]; s: string } {
  const second = wire.indexOf('.', wire.indexOf('.') + 1);
  return JSON.parse(wire.slice(second + 1)) as { o: string; k?: string[]; s: string };
}

/** Redis GET/MGET calls so far: an L1 hit sends neither. */
async function readCalls(admin: Redis): Promise<number> {
  const info = await admin.info('commandstats');
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_(get|mget):calls=(\d+)/gm)) calls += Number(match[2]);
  return calls;
}

/** Bus messages `app` has dealt with (acted on, or refused), whatever the version of the library. */
function handled(app: TieredApp): number {
  const bus = app.profiles.stats().bus as unknown as Record<string, number>;
  return bus.received + (bus.replayed ?? 0) + (bus.outOfWindow ?? 0) + bus.forged;
}

describe('invalidation bus: captured messages replayed later', () => {
  const redis = useRedisServer({ flushBeforeEach: true });
  const started: TieredApp[] = [];
  let spy: Redis;
  let captured: string[];

  const start = async (replayWindow = WINDOW_MS): Promise<TieredApp> => {
    const app = await startTieredApp(redis.server.url, { bus: { secret: BUS_SECRET, heartbeat: '100ms', replayWindow } });
    started.push(app);
    return app;
  };
  /** The attacker's capture: the first message matching `match`. */
  const capture = async (match: (body: ReturnType<typeof bodyOf>) => boolean): Promise<string> => {
    let found: string | undefined;
    await until(() => (found = captured.find((w) => match(bodyOf(w)))) !== undefined, 5_000, 'capture');
    return found!;
  };
  /** Publishes `wire` as the attacker and waits until `target` has dealt with it. */
  const replay = async (wire: string, target: TieredApp): Promise<void> => {
    const before = handled(target);
    await redis.admin.publish(CHANNEL, wire);
    const { o, s: sender } = bodyOf(wire);
    await until(() => handled(target) > before, 5_000, `replay handled (${o} from ${sender}; ${JSON.stringify(target.profiles.stats().bus)}; senders ${JSON.stringify([...new Set(captured.map((w) => bodyOf(w).s))])})`);
  };
  /** `target` answers `id` from its L1: the right value, and no read sent to Redis. */
  const expectL1Hit = async (target: TieredApp, id: string, name: string): Promise<void> => {
    const calls = await readCalls(redis.admin);
    const response = await target.http().get(`/profiles/${id}`).expect(200);
    expect(response.body).toEqual({ profile: { name } });
    expect(await readCalls(redis.admin)).toBe(calls);
  };

  beforeEach(async () => {
    captured = [];
    spy = new Redis({ host: '127.0.0.1', port: redis.server.port });
    spy.on('message', (_channel: string, wire: string) => captured.push(wire));
    await spy.subscribe(CHANNEL);
  });
  afterEach(async () => {
    spy.disconnect();
    await Promise.all(started.splice(0).map((app) => app.close()));
  });

  it('an instance that acted on an invalidation (key or whole namespace) refuses it when replayed: its L1 copy stays', async () => {
    const [a, b] = [await start(30_000), await start(30_000)];
    const bothListening = captured.length; // from here on, a and b receive every message
    await a.profiles.set('p0', { name: 'zero' });
    await a.profiles.clear();
    const clear = await capture((m) => m.o === 'c');
    await a.http().put('/profiles/p1').send({ name: 'v1' }).expect(200);
    const invalidation = await capture((m) => m.o === 'k' && m.k!.includes('p1'));
    // b has applied a's three invalidations (p0, clear, p1): none can drop the copy it reads next.
    await until(() => b.profiles.stats().bus!.received >= 3, 5_000, 'invalidations received');
    await until(async () => (await b.http().get('/profiles/p1')).body.profile?.name === 'v1', 5_000, 'p1 read');
    await expectL1Hit(b, 'p1', 'v1'); // b holds p1 in its L1 now

    await replay(invalidation, b);
    await replay(clear, b);
    await expectL1Hit(b, 'p1', 'v1');
    expect(b.profiles.stats().bus).toMatchObject({ replayed: 2, forged: 0 });
    // The attacker can also replay heartbeats (an instance's own, or another's): refused too.
    const beats = captured.slice(bothListening).filter((w) => bodyOf(w).o === 'h').slice(0, 4);
    for (const beat of beats) await replay(beat, b);
    expect(b.profiles.stats().bus!.replayed).toBe(2 + beats.length);
    await expectL1Hit(b, 'p1', 'v1');
  });

  it('a restarted instance refuses a message older than the replay window', async () => {
    const [a, b] = [await start(), await start()];
    await a.http().put('/profiles/p1').send({ name: 'v1' }).expect(200);
    const invalidation = await capture((m) => m.o === 'k' && m.k!.includes('p1'));
    await b.close();
    started.splice(started.indexOf(b), 1);
    await sleep(WINDOW_MS + 200);

    const restarted = await start(); // knows nothing of the senders it heard before
    await until(async () => (await restarted.http().get('/profiles/p1')).body.profile?.name === 'v1', 5_000, 'v1 read');
    await expectL1Hit(restarted, 'p1', 'v1');
    await replay(invalidation, restarted);
    await expectL1Hit(restarted, 'p1', 'v1');
    expect(restarted.profiles.stats().bus).toMatchObject({ outOfWindow: 1, replayed: 0 });
  });

  it('within the window, an instance that never heard from the sender acts on its message at most once', async () => {
    const a = await start(30_000);
    await a.http().put('/profiles/p1').send({ name: 'v1' }).expect(200);
    const invalidation = await capture((m) => m.o === 'k' && m.k!.includes('p1'));
    await a.close(); // an instance that heard from it since would refuse the older message
    started.splice(started.indexOf(a), 1);
    const late = await start(30_000); // started after the message was sent
    await until(async () => (await late.http().get('/profiles/p1')).body.profile?.name === 'v1', 5_000, 'v1 read');
    await replay(invalidation, late); // new to it: acted on (an invalidation it cannot tell from the original)
    await until(async () => (await late.http().get('/profiles/p1')).body.profile?.name === 'v1', 5_000, 'v1 read');
    await expectL1Hit(late, 'p1', 'v1');
    await replay(invalidation, late); // the second time: refused
    await expectL1Hit(late, 'p1', 'v1');
    expect(late.profiles.stats().bus).toMatchObject({ received: 1, replayed: 1 });
  });
});

/**
 * The documented ACL rules for the bus (docs/resilience-and-tiers.md): `ACL SETUSER cache resetchannels
 * &cache:__bus …` on top of the library's minimal user (docs/redis-topologies.md), and
 * `ACL SETUSER <untrusted> … resetchannels …` for everyone else. The lines are read from the docs, so
 * the documented rules are the tested ones.
 */
function docLine(page: string, prefix: string): string[] {
  const text = readFileSync(join(__dirname, '../../docs', page), 'utf8');
  const lines = text.split('\n').filter((l) => l.startsWith(prefix));
  if (lines.length !== 1) throw new Error(`expected one "${prefix}" line in docs/${page}, found ${lines.length}`);
  return lines[0].trim().split(/\s+/).slice(2);
}

describe('the documented ACL rules for the bus channel', () => {
  const password = 'cache-pw';
  const withPassword = (rules: string[]): string[] => rules.map((rule) => (rule === '>password' ? `>${password}` : rule));
  const redis = useRedisServer({ password: 'admin-pw' });
  const started: TieredApp[] = [];

  beforeAll(async () => {
    await redis.admin.call('ACL', 'SETUSER', ...withPassword(docLine('redis-topologies.md', 'ACL SETUSER cache on ')));
    await redis.admin.call('ACL', 'SETUSER', ...withPassword(docLine('resilience-and-tiers.md', 'ACL SETUSER cache resetchannels ')));
    await redis.admin.call('ACL', 'SETUSER', ...withPassword(docLine('resilience-and-tiers.md', 'ACL SETUSER reports ')));
    await redis.admin.acl('LOG', 'RESET');
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((app) => app.close()));
  });

  it('lets the library\'s user run the bus (heartbeats, invalidations across instances) with nothing in ACL LOG', async () => {
    const url = `redis://cache:${password}@127.0.0.1:${redis.server.port}`;
    const [a, b] = [await startTieredApp(url), await startTieredApp(url)];
    started.push(a, b);
    await a.http().put('/profiles/p1').send({ name: 'v1' }).expect(200);
    await until(async () => (await b.http().get('/profiles/p1')).body.profile?.name === 'v1', 5_000, 'v1 read');
    await a.http().put('/profiles/p1').send({ name: 'v2' }).expect(200);
    await until(async () => (await b.http().get('/profiles/p1')).body.profile?.name === 'v2', 5_000, 'v2 read');
    expect(b.profiles.stats().bus).toMatchObject({ connected: true, forged: 0 });
    expect(b.profiles.stats().bus!.received).toBeGreaterThan(0);
    expect(await redis.admin.acl('LOG')).toEqual([]);
  });

  it('denies an untrusted user publishing or listening on the bus channel, and leaves it its own channels', async () => {
    const untrusted = new Redis({ host: '127.0.0.1', port: redis.server.port, username: 'reports', password, enableReadyCheck: false });
    const listener = new Redis({ host: '127.0.0.1', port: redis.server.port, username: 'reports', password, enableReadyCheck: false });
    try {
      await expect(untrusted.publish(CHANNEL, 'v3.AAAA.{}')).rejects.toThrow(/NOPERM/);
      await expect(listener.subscribe(CHANNEL)).rejects.toThrow(/NOPERM/);
      await expect(untrusted.publish('reports:updates', 'x')).resolves.toBe(0);
    } finally {
      untrusted.disconnect();
      listener.disconnect();
    }
  });
});
