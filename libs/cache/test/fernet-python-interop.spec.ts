/**
 * Our Fernet against Python's `cryptography` Fernet, both ways: tokens Python makes open here, and
 * tokens made here open in Python; then through a real Redis, a Python writer and reader sharing a
 * cache namespace that uses the Fernet provider.
 */
import { Test, TestingModule } from '@nestjs/testing';
import Redis from 'ioredis';
import { pythonFernetAvailable, runPythonFernet } from '../../../test/support/python-fernet';
import { RedisServer, startRedisServer } from '../../../test/support/redis-server';
import { CacheModule } from '../src/cache.module';
import { CacheService } from '../src/cache.service';
import { Fernet } from '../src/security/fernet/fernet';
import { InvalidTokenError } from '../src/security/fernet/invalid-token.error';

beforeAll(() => {
  if (!pythonFernetAvailable()) {
    throw new Error('These tests need /usr/bin/python3 with cryptography: `sudo apt-get install -y python3-cryptography`.');
  }
});

describe('Fernet interop with Python cryptography', () => {
  const texts = ['hello', '', 'ünïcödé ✓ 🎵', 'x'.repeat(1024), JSON.stringify({ topTracks: ['t1', 't2'] })];

  it('decrypts what Python encrypts', () => {
    const key = Fernet.generateKey();
    const tokens = runPythonFernet(texts.map((data) => ({ op: 'encrypt', keys: [key], data })));
    const fernet = new Fernet(key);
    tokens.forEach((t, i) => {
      expect(t.ok).toBe(true);
      expect(fernet.decrypt((t as { value: string }).value, 60).toString('utf8')).toBe(texts[i]);
    });
  });

  it('encrypts what Python decrypts, and Python refuses our tokens under another key or altered', () => {
    const key = Fernet.generateKey();
    const fernet = new Fernet(key);
    const tokens = texts.map((t) => fernet.encrypt(t));
    const altered = Buffer.from(tokens[0], 'base64url');
    altered[30] ^= 1;
    const results = runPythonFernet([
      ...tokens.map((token) => ({ op: 'decrypt' as const, keys: [key], token, ttl: 60 })),
      { op: 'decrypt', keys: [Fernet.generateKey()], token: tokens[0] },
      { op: 'decrypt', keys: [key], token: altered.toString('base64url') },
    ]);
    expect(results.slice(0, texts.length)).toEqual(texts.map((value) => ({ ok: true, value })));
    expect(results.slice(texts.length)).toEqual([{ ok: false, error: 'InvalidToken' }, { ok: false, error: 'InvalidToken' }]);
  });

  it('refuses a token Python made under another key', () => {
    const [token] = runPythonFernet([{ op: 'encrypt', keys: [Fernet.generateKey()], data: 'secret' }]);
    expect(() => new Fernet(Fernet.generateKey()).decrypt((token as { value: string }).value)).toThrow(InvalidTokenError);
  });
});

describe('A cache namespace shared with a Python service through Redis (Fernet provider)', () => {
  let server: RedisServer;
  let admin: Redis;
  let moduleRef: TestingModule;
  let cache: CacheService;
  const oldKey = Fernet.generateKey();
  const newKey = Fernet.generateKey();

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.port, '127.0.0.1');
    moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({
        redis: { url: server.url },
        namespaces: {
          history: { backend: 'redis', encryption: { provider: 'fernet', keys: [{ key: newKey }, { key: oldKey }] } },
          bound: { backend: 'redis', encryption: { provider: 'fernet', keys: [{ key: newKey }], bindContext: true } },
        },
      })],
    }).compile();
    await moduleRef.init();
    cache = moduleRef.get(CacheService);
  });
  afterAll(async () => {
    await moduleRef.close();
    admin.disconnect();
    await server.stop();
  });

  it('writes tokens Python decrypts to the serializer\'s JSON, and reads what Python writes (old key too)', async () => {
    await cache.namespace('history').set('u1', { plays: ['t1', 't2'] });
    const stored = (await admin.get('cache:{history}:u1'))!;
    const [read] = runPythonFernet([{ op: 'decrypt', keys: [newKey], token: stored }]);
    expect(read).toEqual({ ok: true, value: JSON.stringify({ plays: ['t1', 't2'] }) });

    const [fromPython, fromPythonOldKey] = runPythonFernet([
      { op: 'encrypt', keys: [newKey], data: JSON.stringify({ plays: ['t9'] }) },
      { op: 'encrypt', keys: [oldKey], data: JSON.stringify({ plays: ['t8'] }) },
    ]);
    await admin.set('cache:{history}:u2', (fromPython as { value: string }).value);
    await admin.set('cache:{history}:u3', (fromPythonOldKey as { value: string }).value);
    expect(await cache.namespace('history').get('u2')).toEqual({ plays: ['t9'] });
    expect(await cache.namespace('history').get('u3')).toEqual({ plays: ['t8'] });
  });

  it('with bindContext, shares entries framed as namespace NUL key NUL payload, and detects a copied token', async () => {
    const bound = cache.namespace('bound');
    await bound.set('u1', 'mine');
    const [opened, written] = runPythonFernet([
      { op: 'decrypt', keys: [newKey], token: (await admin.get('cache:{bound}:u1'))! },
      { op: 'encrypt', keys: [newKey], data: 'bound\u0000u2\u0000"from python"' },
    ]);
    expect(opened).toEqual({ ok: true, value: 'bound\u0000u1\u0000"mine"' });
    await admin.set('cache:{bound}:u2', (written as { value: string }).value);
    expect(await bound.get('u2')).toBe('from python');
    await admin.copy('cache:{bound}:u2', 'cache:{bound}:u3');
    expect(await bound.get('u3')).toBeUndefined();
    expect(await admin.exists('cache:{bound}:u3')).toBe(0);
  });
});
