/**
 * Run by `redis-planted-compression-bomb.e2e-spec.ts` in a Node process of its own, so that its peak
 * memory (maxRSS) is this scenario's alone. Starts a redis-server, an app with a compressed Redis
 * namespace, plants a gzip "bomb" (concatenated members of 8 MiB of zeros each: under the stored-payload
 * limit, about 1 GB once inflated) under one of its keys and reads it: single get, batched gets, mget.
 * Prints what the reads answered and how much the peak memory grew.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CacheModule, CacheService } from 'nest-cachekit';
import { startRedisServer } from '../support/redis-server';

const MEMBER_INFLATED = 8 * 1024 * 1024;
const MAX_VALUE_BYTES = 1024 * 1024;

async function main(): Promise<void> {
  const member = gzipSync(Buffer.alloc(MEMBER_INFLATED));
  const members = Math.floor((MAX_VALUE_BYTES - 3) / member.length);
  const bomb = Buffer.concat([Buffer.from([0xc1, 0x01, 0x01]), ...Array.from({ length: members }, () => member)]);
  const inflatedBytes = members * gunzipSync(member).length;
  const server = await startRedisServer();
  try {
    const app = await NestFactory.createApplicationContext(CacheModule.forRoot({
      redis: { url: server.url },
      namespaces: { feed: { backend: 'redis', maxValueBytes: MAX_VALUE_BYTES, compression: { algorithm: 'gzip' } } },
    }), { logger: false, abortOnError: false });
    const feed = app.get(CacheService).namespace('feed');
    await feed.set('good', { items: Array.from({ length: 2000 }, (_, i) => ({ id: i, title: 'track' })) });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Redis = require('ioredis') as typeof import('ioredis').default;
    const admin = new Redis(server.port, '127.0.0.1');
    const before = process.resourceUsage().maxRSS;
    const answers: unknown[] = [];
    for (const read of [() => feed.get('bomb'), async () => (await Promise.all([feed.get('bomb'), feed.get('good')]))[0], async () => (await feed.mget(['bomb']))[0]]) {
      await admin.set('cache:{feed}:bomb', bomb);
      answers.push((await read()) === undefined ? 'miss' : 'value');
      answers.push(await admin.exists('cache:{feed}:bomb'));
    }
    const growthMB = (process.resourceUsage().maxRSS - before) / 1024;
    const good = await feed.get('good');
    const stats = feed.stats();
    admin.disconnect();
    await app.close();
    console.log(JSON.stringify({ storedBytes: bomb.length, inflatedBytes, answers, growthMB, goodRead: good !== undefined, unreadableDropped: stats.unreadableDropped }));
  } finally {
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
