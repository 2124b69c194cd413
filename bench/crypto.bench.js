// npm run bench:crypto — what encryption at rest costs, side by side:
//   a. Redis GET of a 1 KB value at concurrency 64 through CacheNamespace.get, encryption on
//      (AES-256-GCM) vs off, on a private redis-server this script starts (loopback, free port)
//   b. our Fernet vs the `fernet` npm package: encrypt + decrypt of 1 KB
// Ratios: redisGetEncryptedVsPlain (>= 0.75), fernetVsFernetNpm (>= 10).
'use strict';
require('reflect-metadata');
const { createCipheriv, createDecipheriv, createSecretKey, randomBytes } = require('node:crypto');
const Redis = require('ioredis');
const { startRedisServer } = require('../test/support/redis-server');
const { value1k, concurrentLoop, measure, median, spread, ratioOfRounds, formatOps, formatSpread, printTable, writeResults, runBench } = require('./harness');

const KEYS = 1000;
const CONCURRENCY = 64;
const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}:history`);
const concurrentGets = (get) => concurrentLoop(get, keys, CONCURRENCY);

async function redisGets() {
  const lib = require('../libs/cache');
  const { NestFactory } = require('@nestjs/core');
  const server = await startRedisServer();
  try {
    const app = await NestFactory.createApplicationContext(lib.CacheModule.forRoot({
      redis: { url: server.url },
      namespaces: {
        plain: { backend: 'redis' },
        sealed: { backend: 'redis', encryption: { keys: [{ id: 'k1', key: randomBytes(32).toString('base64') }] } },
      },
    }), { logger: false, abortOnError: false });
    const cache = app.get(lib.CacheService);
    const plain = cache.namespace('plain');
    const sealed = cache.namespace('sealed');
    for (let i = 0; i < KEYS; i++) {
      await plain.set(keys[i], value1k(i));
      await sealed.set(keys[i], value1k(i));
    }
    const raw = new Redis(server.port, '127.0.0.1');
    for (let i = 0; i < KEYS; i++) await raw.set(`raw:${keys[i]}`, JSON.stringify(value1k(i)));
    const sizes = {
      plain: Buffer.byteLength(await raw.get(`cache:{plain}:${keys[0]}`)),
      sealed: Buffer.byteLength(await raw.get(`cache:{sealed}:${keys[0]}`)),
    };
    const tasks = [
      { name: 'CacheNamespace.get, encryption off (baseline)', run: concurrentGets((k) => plain.get(k)) },
      { name: 'CacheNamespace.get, AES-256-GCM', run: concurrentGets((k) => sealed.get(k)) },
      { name: '[ref] raw ioredis GET + JSON.parse', run: concurrentGets(async (k) => JSON.parse(await raw.get(`raw:${k}`))) },
    ];
    const results = await measure(tasks, { rounds: 7, batchSeconds: 1, maxSeconds: 60 });
    raw.disconnect();
    await app.close();
    return { tasks, results, sizes };
  } finally {
    await server.stop();
  }
}

function fernetTasks(FernetNpm, ours) {
  const message = 'x'.repeat(1024);
  const secret = ours.key;
  const mine = new ours.Fernet(secret);
  const npmSecret = new FernetNpm.Secret(secret);
  // Each implementation reads the other's tokens: both do the same work.
  const npmToken = new FernetNpm.Token({ secret: npmSecret }).encode(message);
  if (mine.decrypt(npmToken).toString() !== message) throw new Error('our Fernet cannot read the fernet package\'s token');
  if (new FernetNpm.Token({ secret: npmSecret, token: mine.encrypt(message), ttl: 0 }).decode() !== message) {
    throw new Error('the fernet package cannot read our token');
  }
  return [
    {
      name: 'fernet npm 0.4 encrypt + decrypt 1 KB (baseline)',
      run(n) {
        for (let i = 0; i < n; i++) {
          const token = new FernetNpm.Token({ secret: npmSecret }).encode(message);
          if (new FernetNpm.Token({ secret: npmSecret, token, ttl: 0 }).decode().length !== 1024) throw new Error('bad round trip');
        }
      },
    },
    {
      name: 'our Fernet encrypt + decrypt 1 KB',
      run(n) {
        for (let i = 0; i < n; i++) if (mine.decrypt(mine.encrypt(message)).length !== 1024) throw new Error('bad round trip');
      },
    },
  ];
}

function aesTasks(lib) {
  const provider = new lib.AesGcmEncryptionProvider({ keys: [{ id: 'k1', key: randomBytes(32).toString('base64') }] });
  const text = JSON.stringify(value1k(1));
  const ctx = { namespace: 'users', key: keys[1] };
  const payload = provider.encrypt(text, ctx);
  // Node's own floor for opening one 1 KB AES-256-GCM message: the five calls every decrypt needs, on
  // buffers made beforehand (no decoding, no AAD to build, no string out).
  const rawKey = createSecretKey(randomBytes(32));
  const iv = randomBytes(12);
  const aad = Buffer.from(`users\0${keys[1]}`);
  const sealer = createCipheriv('aes-256-gcm', rawKey, iv).setAAD(aad);
  const ciphertext = Buffer.concat([sealer.update(text, 'utf8'), sealer.final()]);
  const tag = sealer.getAuthTag();
  const floor = () => {
    const decipher = createDecipheriv('aes-256-gcm', rawKey, iv, { authTagLength: 16 });
    decipher.setAuthTag(tag);
    decipher.setAAD(aad);
    const out = decipher.update(ciphertext);
    decipher.final();
    return out;
  };
  return [
    { name: '[ref] AesGcmEncryptionProvider encrypt 1 KB', run(n) { for (let i = 0; i < n; i++) provider.encrypt(text, ctx); } },
    { name: '[ref] AesGcmEncryptionProvider decrypt 1 KB', run(n) { for (let i = 0; i < n; i++) provider.decrypt(payload, ctx); } },
    { name: '[ref] Node floor: createDecipheriv + setAuthTag + setAAD + update + final, 1 KB', run(n) { for (let i = 0; i < n; i++) floor(); } },
  ];
}

function rowsOf(tasks, results, baseline = 0) {
  return tasks.map((t, i) => ({
    task: t.name,
    opsPerSec: median(results[i]),
    usPerOp: 1e6 / median(results[i]),
    spread: spread(results[i]),
    vsBaseline: ratioOfRounds(results[i], results[baseline]),
  }));
}

function print(title, rows) {
  printTable(title, ['task', 'ops/s (median)', 'µs/op', 'spread', 'vs baseline'], rows.map((r) => [
    r.task, formatOps(r.opsPerSec), r.usPerOp.toFixed(2), formatSpread(r.spread), Number.isNaN(r.vsBaseline) ? '–' : `${r.vsBaseline.toFixed(2)}×`,
  ]));
}

async function main() {
  const started = Date.now();
  const lib = require('../libs/cache');
  const redis = await redisGets();
  const redisRows = rowsOf(redis.tasks, redis.results);
  print(`a. Redis GET of a 1 KB value, concurrency ${CONCURRENCY}, ${KEYS} keys (stored bytes: plain ${redis.sizes.plain}, sealed ${redis.sizes.sealed})`, redisRows);

  const aes = aesTasks(lib);
  const aesResults = await measure(aes);
  // `fernet` patches String.prototype: loaded last, after everything else is set up.
  const FernetNpm = await import('fernet').then((m) => m.default ?? m);
  const fernet = fernetTasks(FernetNpm, { Fernet: lib.Fernet, key: lib.Fernet.generateKey() });
  const fernetResults = await measure(fernet);
  const fernetRows = rowsOf(fernet, fernetResults);
  // Reference rows only: no peer to compare them with.
  const aesRows = rowsOf(aes, aesResults).map((r) => ({ ...r, vsBaseline: NaN }));
  print('b. Fernet encrypt + decrypt of 1 KB (single thread)', [...fernetRows, ...aesRows]);

  const ratios = {
    redisGetEncryptedVsPlain: redisRows[1].vsBaseline,
    fernetVsFernetNpm: fernetRows[1].vsBaseline,
  };
  console.log(`\nredisGetEncryptedVsPlain: ${ratios.redisGetEncryptedVsPlain.toFixed(2)} (target >= 0.75)`);
  console.log(`fernetVsFernetNpm: ${ratios.fernetVsFernetNpm.toFixed(1)} (target >= 10)`);
  console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  writeResults('crypto', [...redisRows, ...fernetRows, ...aesRows], ratios);
}

runBench(main);
