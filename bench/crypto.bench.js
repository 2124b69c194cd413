// npm run bench:crypto — what encryption at rest and compression cost, side by side:
//   a. Redis GET of a 1 KB value at concurrency 64 through CacheNamespace.get: encryption off, and on
//      with every provider (xchacha20-poly1305 and AES-256-GCM, binary and text payloads; Fernet), and
//      xchacha20-poly1305 with the msgpack serializer, on a private redis-server this script starts
//      (loopback, free port)
//   b. our Fernet vs the `fernet` npm package: encrypt + decrypt of 1 KB; single-message references
//   c. compression off vs on (xchacha20-poly1305 sealing both) on a 50 KB JSON document and on the demo's
//      recommendation lists: Redis memory per entry (MEMORY USAGE) and get throughput at concurrency 64
//   d. serializers: TaggedJsonSerializer vs MsgpackSerializer, serialize + deserialize (single thread)
//      of the 1 KB value, a recommendation list and the 50 KB document
// Ratios: redisGetEncryptedVsPlain (the recommended provider, xchacha20-poly1305 with binary payloads:
// >= 0.75), one per other provider (and redisGetMsgpackXChaChaVsPlain), fernetVsFernetNpm (>= 10),
// compression's memory and get ratios, msgpackVsTaggedJson1k/Recommendations/50k.
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

/** The namespaces of part a: the same 1 KB values under each provider and payload format. */
const PROVIDERS = [
  { ns: 'plain', name: 'CacheNamespace.get, encryption off (baseline)', encryption: undefined },
  { ns: 'xchacha', name: 'CacheNamespace.get, xchacha20-poly1305, binary payloads (recommended)', ratio: 'redisGetEncryptedVsPlain', encryption: { provider: 'xchacha20-poly1305' } },
  { ns: 'xchachaText', name: 'CacheNamespace.get, xchacha20-poly1305, text payloads', ratio: 'redisGetXChaChaTextVsPlain', payloadFormat: 'text', encryption: { provider: 'xchacha20-poly1305' } },
  { ns: 'gcmBinary', name: 'CacheNamespace.get, AES-256-GCM, binary payloads', ratio: 'redisGetAesGcmBinaryVsPlain', payloadFormat: 'binary', encryption: { provider: 'aes-256-gcm' } },
  { ns: 'gcm', name: 'CacheNamespace.get, AES-256-GCM, text payloads (the default when no provider is named)', ratio: 'redisGetAesGcmVsPlain', encryption: { provider: 'aes-256-gcm' } },
  { ns: 'fernet', name: 'CacheNamespace.get, Fernet', ratio: 'redisGetFernetVsPlain', encryption: { provider: 'fernet' } },
  { ns: 'xchachaMsgpack', name: 'CacheNamespace.get, xchacha20-poly1305, binary payloads, msgpack serializer', ratio: 'redisGetMsgpackXChaChaVsPlain', encryption: { provider: 'xchacha20-poly1305' }, msgpack: true },
];

async function startCache(lib, server, namespaces) {
  const { NestFactory } = require('@nestjs/core');
  const app = await NestFactory.createApplicationContext(lib.CacheModule.forRoot({ redis: { url: server.url }, namespaces }), { logger: false, abortOnError: false });
  return { app, cache: app.get(lib.CacheService) };
}

async function redisGets(lib, server) {
  const namespaces = {};
  for (const p of PROVIDERS) {
    const keys = p.encryption?.provider === 'fernet' ? [{ key: lib.Fernet.generateKey() }] : [{ id: 'k1', key: randomBytes(32).toString('base64') }];
    namespaces[p.ns] = {
      backend: 'redis', ...(p.payloadFormat && { payloadFormat: p.payloadFormat }), ...(p.encryption && { encryption: { ...p.encryption, keys } }),
      ...(p.msgpack && { serializer: new lib.MsgpackSerializer() }),
    };
  }
  const { app, cache } = await startCache(lib, server, namespaces);
  const raw = new Redis(server.port, '127.0.0.1');
  try {
    const sizes = {};
    for (const p of PROVIDERS) {
      const ns = cache.namespace(p.ns);
      for (let i = 0; i < KEYS; i++) await ns.set(keys[i], value1k(i));
      sizes[p.ns] = (await raw.getBuffer(`cache:{${p.ns}}:${keys[0]}`)).length;
    }
    for (let i = 0; i < KEYS; i++) await raw.set(`raw:${keys[i]}`, JSON.stringify(value1k(i)));
    const tasks = [
      ...PROVIDERS.map((p) => { const ns = cache.namespace(p.ns); return { name: p.name, run: concurrentGets((k) => ns.get(k)) }; }),
      { name: '[ref] raw ioredis GET + JSON.parse', run: concurrentGets(async (k) => JSON.parse(await raw.get(`raw:${k}`))) },
    ];
    const results = await measure(tasks, { rounds: 7, batchSeconds: 0.8, maxSeconds: 90 });
    return { tasks, results, sizes };
  } finally {
    raw.disconnect();
    await app.close();
  }
}

// ---- c. compression ---------------------------------------------------------------------------

const ARTISTS = ['Nina Vale', 'The Quiet Orbit', 'Marlo Finch', 'Kora Sun', 'Dee Rivers', 'Ostrava Strings'];
const GENRES = ['jazz', 'soul', 'techno', 'folk', 'hip-hop', 'classical'];
const track = (n) => ({ id: `t${n}`, title: `Track ${n}`, artist: ARTISTS[n % ARTISTS.length], genre: GENRES[n % GENRES.length], durationSec: 120 + ((n * 37) % 240) });

/** The demo's recommendations value: five tracks of one genre (as `CatalogRepository.recommendations` returns them). */
function recommendations(i) {
  return Array.from({ length: 5 }, (_, k) => track(((i * 7 + k * 6) % 200) + 1));
}

/** A 50 KB JSON document: a user's listening history page (tracks, play counts, dates, tags). */
function document50k(i) {
  const doc = { userId: `u${i}`, generatedAt: new Date(Date.UTC(2026, 0, 1 + (i % 28))).toISOString(), page: i % 10, items: [] };
  for (let n = 0; JSON.stringify(doc).length < 50 * 1024 - 200; n++) {
    doc.items.push({ ...track((i + n * 13) % 200 + 1), plays: (i * 31 + n * 17) % 997, lastPlayed: 1767225600000 + ((i + n) % 90) * 86_400_000, tags: [GENRES[(i + n) % 6], n % 3 === 0 ? 'favourite' : 'recent'] });
  }
  return doc;
}

/** One value kind: off (baseline) and each compression setting, all sealed with xchacha20-poly1305. */
async function compressionRows(lib, server, { label, make, keyCount, settings }) {
  const key = randomBytes(32).toString('base64');
  const namespaces = {};
  for (const s of settings) namespaces[s.ns] = { backend: 'redis', encryption: { provider: 'xchacha20-poly1305', keys: [{ id: 'k1', key }] }, ...(s.compression && { compression: s.compression }) };
  const { app, cache } = await startCache(lib, server, namespaces);
  const raw = new Redis(server.port, '127.0.0.1');
  const valueKeys = Array.from({ length: keyCount }, (_, i) => `doc:${i}`);
  try {
    const memory = {};
    const text = JSON.stringify(make(0)).length;
    for (const s of settings) {
      const ns = cache.namespace(s.ns);
      for (let i = 0; i < keyCount; i++) await ns.set(valueKeys[i], make(i));
      let total = 0;
      for (let i = 0; i < keyCount; i++) total += await raw.memory('USAGE', `cache:{${s.ns}}:${valueKeys[i]}`, 'SAMPLES', 0);
      memory[s.ns] = total / keyCount;
    }
    const tasks = settings.map((s) => { const ns = cache.namespace(s.ns); return { name: `${label}: get, ${s.name}`, run: concurrentLoop((k) => ns.get(k), valueKeys, CONCURRENCY) }; });
    const results = await measure(tasks, { rounds: 7, batchSeconds: 0.8, maxSeconds: 60 });
    return { tasks, results, memory, text };
  } finally {
    raw.disconnect();
    await app.close();
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
  const xchacha = new lib.XChaCha20Poly1305EncryptionProvider({ keys: [{ id: 'k1', key: randomBytes(32).toString('base64') }] });
  const bytes = Buffer.from(text);
  const sealed = xchacha.encryptBytes(bytes, ctx);
  return [
    { name: '[ref] XChaCha20Poly1305EncryptionProvider encryptBytes 1 KB', run(n) { for (let i = 0; i < n; i++) xchacha.encryptBytes(bytes, ctx); } },
    { name: '[ref] XChaCha20Poly1305EncryptionProvider decryptBytes 1 KB', run(n) { for (let i = 0; i < n; i++) xchacha.decryptBytes(sealed, ctx); } },
    { name: '[ref] AesGcmEncryptionProvider encrypt 1 KB', run(n) { for (let i = 0; i < n; i++) provider.encrypt(text, ctx); } },
    { name: '[ref] AesGcmEncryptionProvider decrypt 1 KB', run(n) { for (let i = 0; i < n; i++) provider.decrypt(payload, ctx); } },
    { name: '[ref] Node floor: createDecipheriv + setAuthTag + setAAD + update + final, 1 KB', run(n) { for (let i = 0; i < n; i++) floor(); } },
  ];
}

// ---- d. serializers ----------------------------------------------------------------------------

/** Per value kind, tagged JSON (the baseline of its pair) then msgpack: one serialize + deserialize of one of 64 values per call. */
function serializerTasks(lib) {
  const json = new lib.TaggedJsonSerializer();
  const msgpack = new lib.MsgpackSerializer();
  const kinds = [
    { label: '1 KB value', make: value1k, ratio: 'msgpackVsTaggedJson1k' },
    { label: 'recommendation list (5 tracks)', make: recommendations, ratio: 'msgpackVsTaggedJsonRecommendations' },
    { label: '50 KB document', make: document50k, ratio: 'msgpackVsTaggedJson50k' },
  ];
  const tasks = [];
  for (const kind of kinds) {
    const values = Array.from({ length: 64 }, (_, i) => kind.make(i));
    kind.textBytes = Buffer.byteLength(json.serialize(values[0]));
    kind.msgpackBytes = msgpack.serializeBytes(values[0]).length;
    tasks.push(
      { name: `${kind.label}: TaggedJsonSerializer serialize + deserialize (baseline)`, run(n) { for (let i = 0; i < n; i++) json.deserialize(json.serialize(values[i & 63])); } },
      // msgpackr's output is a Buffer, as deserializeBytes takes it.
      { name: `${kind.label}: MsgpackSerializer serializeBytes + deserializeBytes`, run(n) { for (let i = 0; i < n; i++) msgpack.deserializeBytes(msgpack.serializeBytes(values[i & 63])); } },
    );
  }
  return { tasks, kinds };
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
  const server = await startRedisServer();
  let redis;
  let compression;
  try {
    redis = await redisGets(lib, server);
    compression = [];
    for (const kind of [
      { label: '50 KB JSON document', make: document50k, keyCount: 200, settings: [
        { ns: 'docOff', name: 'compression off (baseline)' },
        { ns: 'docGzip', name: 'gzip (level 6)', compression: { algorithm: 'gzip' }, ratio: '50kGzip' },
        { ns: 'docBrotli', name: 'brotli (quality 5)', compression: { algorithm: 'brotli' }, ratio: '50kBrotli' },
      ] },
      { label: 'recommendation list (5 tracks)', make: recommendations, keyCount: KEYS, settings: [
        { ns: 'recOff', name: 'compression off (baseline)' },
        { ns: 'recGzip', name: 'gzip, thresholdBytes 0 (the default 1024 leaves these as they are)', compression: { algorithm: 'gzip', thresholdBytes: 0 }, ratio: 'RecommendationsGzip' },
      ] },
    ]) compression.push({ kind, ...(await compressionRows(lib, server, kind)) });
  } finally {
    await server.stop();
  }
  const redisRows = rowsOf(redis.tasks, redis.results);
  print(`a. Redis GET of a 1 KB value, concurrency ${CONCURRENCY}, ${KEYS} keys (stored bytes: ${Object.entries(redis.sizes).map(([k, v]) => `${k} ${v}`).join(', ')})`, redisRows);

  const aes = aesTasks(lib);
  const aesResults = await measure(aes);
  // `fernet` patches String.prototype: loaded last, after everything else is set up.
  const FernetNpm = await import('fernet').then((m) => m.default ?? m);
  const fernet = fernetTasks(FernetNpm, { Fernet: lib.Fernet, key: lib.Fernet.generateKey() });
  const fernetResults = await measure(fernet);
  const fernetRows = rowsOf(fernet, fernetResults);
  // Reference rows only: no peer to compare them with.
  const aesRows = rowsOf(aes, aesResults).map((r) => ({ ...r, vsBaseline: NaN }));
  print('b. Fernet encrypt + decrypt of 1 KB (single thread), and single-message references', [...fernetRows, ...aesRows]);

  const serializers = serializerTasks(lib);
  const serializerResults = await measure(serializers.tasks);
  // Each msgpack row against the tagged-JSON row of its value.
  const serializerRows = serializers.tasks.map((t, i) => rowsOf([t], [serializerResults[i]])[0]);
  serializers.kinds.forEach((_, k) => { serializerRows[2 * k + 1].vsBaseline = ratioOfRounds(serializerResults[2 * k + 1], serializerResults[2 * k]); });

  const ratios = {};
  PROVIDERS.forEach((p, i) => { if (p.ratio) ratios[p.ratio] = redisRows[i].vsBaseline; });
  ratios.fernetVsFernetNpm = fernetRows[1].vsBaseline;
  serializers.kinds.forEach((kind, k) => { ratios[kind.ratio] = serializerRows[2 * k + 1].vsBaseline; });
  const compressionTable = [];
  for (const c of compression) {
    const rows = rowsOf(c.tasks, c.results);
    const off = c.memory[c.kind.settings[0].ns];
    c.kind.settings.forEach((s, i) => {
      rows[i].memoryBytesPerEntry = c.memory[s.ns];
      rows[i].memoryVsOff = c.memory[s.ns] / off;
      if (s.ratio) {
        ratios[`compression${s.ratio}MemoryVsOff`] = rows[i].memoryVsOff;
        ratios[`compression${s.ratio}GetVsOff`] = rows[i].vsBaseline;
      }
    });
    printTable(`c. ${c.kind.label} (${c.text} bytes of JSON), xchacha20-poly1305, concurrency ${CONCURRENCY}, ${c.kind.keyCount} keys`,
      ['task', 'Redis bytes/entry (MEMORY USAGE)', 'memory vs off', 'get ops/s (median)', 'µs/op', 'spread', 'get vs off'],
      rows.map((r) => [r.task, r.memoryBytesPerEntry.toFixed(0), `${r.memoryVsOff.toFixed(2)}×`, formatOps(r.opsPerSec), r.usPerOp.toFixed(2), formatSpread(r.spread), `${r.vsBaseline.toFixed(2)}×`]));
    compressionTable.push(...rows);
  }
  print(`d. Serializers, serialize + deserialize (single thread; stored bytes, tagged JSON / msgpack: ${serializers.kinds.map((k) => `${k.label} ${k.textBytes} / ${k.msgpackBytes}`).join(', ')})`, serializerRows);
  console.log('');
  for (const [name, value] of Object.entries(ratios)) console.log(`${name}: ${value.toFixed(2)}`);
  console.log('targets: redisGetEncryptedVsPlain >= 0.75, fernetVsFernetNpm >= 10');
  console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  writeResults('crypto', [...redisRows, ...fernetRows, ...aesRows, ...serializerRows, ...compressionTable], ratios);
}

runBench(main);
