// npm run bench:cluster — Redis Cluster reads side by side, on a private 3-master + 3-replica cluster
// this bench starts on free loopback ports: get of a 1 KB JSON value at concurrency 64 (closed loop),
// interleaved rounds, medians:
//   - nest-cachekit CacheService namespace get (default prefix "{tracks}:": one slot, one tick's gets
//     batched into one MGET);
//   - nest-cachekit namespace with a prefix without a hash tag (keys over every master, one GET per call);
//   - raw ioredis Cluster GET + JSON.parse, keys over every master (the baseline), and keys in one slot.
// Ratios: clusterGetC64VsRawIoredisCluster (ours, default prefix, vs the baseline), and the others' ratios.
'use strict';
require('reflect-metadata');
const { startRedisCluster } = require('../test/support/redis-cluster');
const { REDIS_LOAD, value1k, interleavedRounds, ratioOfRounds, loadFigures, loadRow, printTable, writeResults, runBench } = require('./harness');

const { keys, concurrency: CONCURRENCY, rounds: ROUNDS, roundSeconds: ROUND_SECONDS } = REDIS_LOAD;
const KEYS = keys.length;

async function main() {
  // A generous node timeout: no failover while the machine is busy.
  const cluster = await startRedisCluster({ nodeTimeoutMs: 5_000 });
  const lib = require('../libs/cache');
  const { NestFactory } = require('@nestjs/core');
  const { Cluster } = require('ioredis');
  const app = await NestFactory.createApplicationContext(lib.CacheModule.forRoot({
    redis: { cluster: { nodes: cluster.seeds } },
    namespaces: { tracks: { backend: 'redis' }, spread: { backend: 'redis', keyPrefix: 'spread:' } },
  }), { logger: false, abortOnError: false });
  const service = app.get(lib.CacheService);
  const tracks = service.namespace('tracks');
  const spreadNs = service.namespace('spread');
  const raw = new Cluster(cluster.seeds);
  await raw.ping();

  await tracks.mset(keys.map((key, i) => ({ key, value: value1k(i) })));
  await spreadNs.mset(keys.map((key, i) => ({ key, value: value1k(i) })));
  await Promise.all(keys.map((k, i) => raw.set(`raw:${k}`, JSON.stringify(value1k(i)))));
  await Promise.all(keys.map((k, i) => raw.set(`{raw}:${k}`, JSON.stringify(value1k(i)))));
  const slots = await Promise.all(keys.map((k) => raw.cluster('KEYSLOT', `raw:${k}`)));
  const masters = new Set(slots.map((slot) => raw.slots[slot][0])).size;
  console.log(`keys: ours in slot ${await raw.cluster('KEYSLOT', 'cache:{tracks}:x')}; raw keys over ${new Set(slots).size} slots on ${masters} masters`);

  const clients = [
    { name: 'nest-cachekit namespace get, default prefix (one slot, MGET-batched)', get: (k) => tracks.get(k) },
    { name: 'ioredis Cluster GET + JSON.parse, keys over every master (baseline)', get: async (k) => JSON.parse(await raw.get(`raw:${k}`)) },
    { name: 'ioredis Cluster GET + JSON.parse, keys in one slot', get: async (k) => JSON.parse(await raw.get(`{raw}:${k}`)) },
    { name: 'nest-cachekit namespace get, prefix without hash tag (one GET per call)', get: (k) => spreadNs.get(k) },
  ];
  const { results, lat } = await interleavedRounds(clients, keys, { concurrency: CONCURRENCY, rounds: ROUNDS, seconds: ROUND_SECONDS });
  const figures = loadFigures(results, lat, 1);
  printTable(`Redis Cluster (3 masters + 3 replicas) get of a 1 KB JSON value, concurrency ${CONCURRENCY} (${ROUNDS} × ${ROUND_SECONDS} s interleaved rounds, ${KEYS} keys)`,
    ['client', 'ops/s (median)', 'spread', 'vs raw ioredis Cluster', 'p50 µs', 'p99 µs'], clients.map((c, i) => loadRow(c.name, figures[i])));
  const rows = clients.map((c, i) => {
    const { opsPerSec, spread, vsBaseline, p50us, p99us } = figures[i];
    return { scenario: `cluster-get-c${CONCURRENCY}`, task: c.name, opsPerSec, spread, vsRawIoredisCluster: vsBaseline, p50us, p99us };
  });
  const ratios = {
    clusterGetC64VsRawIoredisCluster: ratioOfRounds(results[0], results[1]),
    clusterGetC64VsRawIoredisClusterOneSlot: ratioOfRounds(results[0], results[2]),
    clusterGetNoHashTagC64VsRawIoredisCluster: ratioOfRounds(results[3], results[1]),
  };
  console.log('\nratios (median of per-round ratios):');
  for (const [k, v] of Object.entries(ratios)) console.log(`  ${k}: ${v.toFixed(2)}`);
  writeResults('cluster', rows, ratios);

  await app.close();
  raw.disconnect();
  await cluster.stop();
}

runBench(main);
