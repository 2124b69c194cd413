import Redis from 'ioredis';
import { answersPing, assertRedisServerInstalled, RedisServerHandle, startRedisServer, useRedisServer } from './redis-server';

describe('redis-server test harness', () => {
  it('says how to install redis-server when it is not on the PATH', () => {
    expect(() => assertRedisServerInstalled({ PATH: '/nonexistent' })).toThrow(
      /redis-server is not on PATH.*apt-get install -y redis-server/,
    );
  });

  it('starts a private server on a free port (never 6379) and stops it', async () => {
    const server = await startRedisServer();
    expect(server.port).not.toBe(6379);
    const client = new Redis(server.port, '127.0.0.1');
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
    await server.stop();
    expect(() => process.kill(server.pid, 0)).toThrow();
  });
});

describe('useRedisServer', () => {
  let pid = 0;
  let upAtBeforeStop: boolean | undefined;

  describe('in a describe that uses it', () => {
    const redis: RedisServerHandle = useRedisServer({
      flushBeforeEach: true,
      beforeStop: async () => {
        pid = redis.server.pid;
        upAtBeforeStop = await answersPing(redis.server.port);
      },
    });
    let readTooEarly: unknown;
    try {
      void redis.server;
    } catch (error) {
      readTooEarly = error;
    }

    it('refuses to hand out the server while the describe body is collected', () => {
      expect(String(readTooEarly)).toMatch(/`server` is set in beforeAll; read it in a hook or a test/);
    });

    it('starts a private server (never 6379) with an admin client, before the tests', async () => {
      expect(redis.server.port).not.toBe(6379);
      expect(await redis.admin.ping()).toBe('PONG');
      await redis.admin.set('left-over', '1');
    });

    it('flushes before each test with flushBeforeEach', async () => {
      expect(await redis.admin.dbsize()).toBe(0);
    });
  });

  it('ran beforeStop while the server was still up, then stopped the server', () => {
    expect(upAtBeforeStop).toBe(true);
    expect(pid).toBeGreaterThan(0);
    expect(() => process.kill(pid, 0)).toThrow();
  });

  describe('with a password', () => {
    const redis = useRedisServer({ password: 'admin-pw' });

    it('starts the server with requirepass, and the admin client logs in with it', async () => {
      expect(await redis.admin.ping()).toBe('PONG');
      const anonymous = new Redis(redis.server.port, '127.0.0.1', { enableReadyCheck: false, maxRetriesPerRequest: 0 });
      // ioredis 6's RESP3 handshake (HELLO 3) is refused with NOAUTH too, as an error event.
      const refusals: Error[] = [];
      anonymous.on('error', (error: Error) => refusals.push(error));
      try {
        await expect(anonymous.get('k')).rejects.toThrow(/NOAUTH/);
        expect(refusals.every((error) => /NOAUTH/.test(error.message))).toBe(true);
      } finally {
        anonymous.disconnect();
      }
    });
  });
});
