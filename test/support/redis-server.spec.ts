import Redis from 'ioredis';
import { assertRedisServerInstalled, startRedisServer } from './redis-server';

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
