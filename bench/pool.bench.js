// npm run bench:pool — does more than one command connection help? Redis namespace get of a 1 KB JSON
// value at concurrency 64, with redis.pool.commandConnections = 1, 2 and 4 side by side (three app
// contexts in this process, interleaved rounds, medians), on a private redis-server this bench starts:
//   a. the default prefix ("{tracks}:", a hash tag): one tick's concurrent gets go out as one MGET;
//   b. a prefix without a hash tag ("plain:"): one GET per call, spread round-robin over the connections.
// Ratios (no target; they decide the default): pool2VsPool1, pool4VsPool1 for a (batched) and b (GET).
'use strict';
require('reflect-metadata');
const { startRedisServer } = require('../test/support/redis-server');
const { REDIS_LOAD, value1k, interleavedRounds, ratioOfRounds, loadFigures, loadRow, printTable, writeResults, runBench } = require('./harness');

const { keys, concurrency: CONCURRENCY, rounds: ROUNDS, roundSeconds: ROUND_SECONDS } = REDIS_LOAD;
const KEYS = keys.length;
const SIZES = [1, 2, 4];

async function main() {
  const redis = await startRedisServer();
  const lib = require('../libs/cache');
  const { NestFactory } = require('@nestjs/core');
  const apps = [];
  for (const size of SIZES) {
    apps.push(await NestFactory.createApplicationContext(lib.CacheModule.forRoot({
      redis: { url: redis.url, pool: { commandConnections: size } },
      keyPrefix: `pool${size}:`,
      namespaces: { tracks: { backend: 'redis' }, plain: { backend: 'redis', keyPrefix: 'plain:' } },
    }), { logger: false, abortOnError: false }));
  }
  const namespaces = (name) => apps.map((app) => app.get(lib.CacheService).namespace(name));
  for (const ns of [...namespaces('tracks'), ...namespaces('plain')]) {
    await ns.mset(keys.map((key, i) => ({ key, value: value1k(i) })));
  }

  const rows = [];
  const ratios = {};
  const scenarios = [
    { id: 'batched', ns: 'tracks', title: 'a. default prefix (hash tag): concurrent gets of one tick batched into one MGET' },
    { id: 'get', ns: 'plain', title: 'b. prefix without a hash tag: one GET per call, round-robin over the connections' },
  ];
  for (const scenario of scenarios) {
    const clients = namespaces(scenario.ns).map((ns, i) => ({ name: `commandConnections: ${SIZES[i]}`, get: (k) => ns.get(k) }));
    const { results, lat } = await interleavedRounds(clients, keys, { concurrency: CONCURRENCY, rounds: ROUNDS, seconds: ROUND_SECONDS });
    const figures = loadFigures(results, lat, 0);
    printTable(`${scenario.title} (c=${CONCURRENCY}, 1 KB, ${ROUNDS} × ${ROUND_SECONDS} s interleaved rounds, ${KEYS} keys)`,
      ['pool', 'ops/s (median)', 'spread', 'vs 1 connection', 'p50 µs', 'p99 µs'], clients.map((c, i) => loadRow(c.name, figures[i])));
    clients.forEach((c, i) => {
      const { opsPerSec, spread, vsBaseline, p50us, p99us } = figures[i];
      rows.push({ scenario: `pool-${scenario.id}-c${CONCURRENCY}`, task: c.name, commandConnections: SIZES[i], opsPerSec, spread, vsOneConnection: vsBaseline, p50us, p99us });
    });
    const suffix = scenario.id === 'batched' ? 'Batched' : 'Get';
    ratios[`pool2VsPool1${suffix}`] = ratioOfRounds(results[1], results[0]);
    ratios[`pool4VsPool1${suffix}`] = ratioOfRounds(results[2], results[0]);
  }

  console.log('\nratios (median of per-round ratios; above 1 means more connections helped):');
  for (const [k, v] of Object.entries(ratios)) console.log(`  ${k}: ${v.toFixed(2)}`);
  writeResults('pool', rows, ratios);
  for (const app of apps) await app.close();
  await redis.stop();
}

runBench(main);
