import type { OptionProblem } from '../errors/invalid-options.error';
import type { RedisConnectionOptions } from '../backends/redis/redis-connection-options';
import { redisUrlProblem } from '../backends/redis/topology/check-redis-url';
import { parseNodeAddress } from '../backends/redis/topology/parse-node-address';
import { RedisClusterOptionsDto, RedisPoolOptionsDto, RedisSentinelOptionsDto, RedisTlsOptionsDto } from './option-dtos';

type CheckDto = (dto: new () => object, value: object, path: string, problems: OptionProblem[]) => void;

const ADDRESS_REASON = 'must be "host:port", "redis://host:port" or { host, port } with a port from 1 to 65535';

/**
 * The URL, host and Sentinel / Cluster / pool parts of `redis` (the DTO checks of the plain fields
 * are done by the caller): a URL a client can parse, one topology at a time, and every node address
 * parseable, each problem under its path. Nothing that may carry credentials is quoted.
 */
export function checkRedisTopology(redis: RedisConnectionOptions, problems: OptionProblem[], check: CheckDto): void {
  const { sentinel, cluster, pool } = redis;
  if (redis.url !== undefined) {
    const problem = redisUrlProblem(redis.url);
    if (problem !== undefined) problems.push({ path: 'redis.url', reason: problem });
  }
  if (typeof redis.host === 'string' && /[@/\s]/.test(redis.host)) {
    problems.push({ path: 'redis.host', reason: 'must be a host name or an IP address (a URL goes in redis.url; credentials in redis.username / redis.password)' });
  }
  if (isObject(pool)) check(RedisPoolOptionsDto, pool, 'redis.pool.', problems);
  if (sentinel !== undefined && cluster !== undefined) {
    problems.push({ path: 'redis.cluster', reason: 'cannot be combined with redis.sentinel; pick one topology' });
    return;
  }
  if (isObject(sentinel)) {
    check(RedisSentinelOptionsDto, sentinel, 'redis.sentinel.', problems);
    checkAddresses(sentinel.sentinels, 'redis.sentinel.sentinels', problems);
    checkTls(sentinel.sentinelTls, 'redis.sentinel.sentinelTls', problems, check);
    for (const field of ['url', 'host', 'port'] as const) {
      if (redis[field] !== undefined) problems.push({ path: `redis.${field}`, reason: 'is not used with redis.sentinel: the sentinels name the master; list them in redis.sentinel.sentinels' });
    }
  }
  if (isObject(cluster)) {
    check(RedisClusterOptionsDto, cluster, 'redis.cluster.', problems);
    checkAddresses(cluster.nodes, 'redis.cluster.nodes', problems);
    if (isObject(cluster.natMap)) {
      for (const [from, to] of Object.entries(cluster.natMap)) {
        if (parseNodeAddress(from) === undefined) problems.push({ path: `redis.cluster.natMap.${from}`, reason: `the announced address ${ADDRESS_REASON.replace('must be', 'must be written as')}` });
        if (to === null || typeof to !== 'object' || parseNodeAddress(to) === undefined) problems.push({ path: `redis.cluster.natMap.${from}`, reason: 'must map to { host, port } with a port from 1 to 65535' });
      }
    }
    for (const field of ['url', 'host', 'port'] as const) {
      if (redis[field] !== undefined) problems.push({ path: `redis.${field}`, reason: 'is not used with redis.cluster; list seed nodes in redis.cluster.nodes' });
    }
    if (redis.db !== undefined && redis.db !== 0) problems.push({ path: 'redis.db', reason: `must be 0 (or left out) with redis.cluster: a Redis Cluster has only database 0 (got ${redis.db})` });
  }
}

function checkAddresses(list: unknown, path: string, problems: OptionProblem[]): void {
  if (!Array.isArray(list)) return; // reported by the DTO
  list.forEach((address, i) => {
    if (parseNodeAddress(address as never) === undefined) {
      problems.push({ path: `${path}[${i}]`, reason: `${ADDRESS_REASON} (${describeBadAddress(address)})` });
    }
  });
}

/** What was given, without echoing anything that may carry credentials (`redis://user:pass@host`). */
function describeBadAddress(address: unknown): string {
  if (typeof address !== 'string') return `got ${typeof address}`;
  if (address.includes('@') || address.includes('://')) return 'got a URL; credentials belong in redis.username / redis.password (and sentinelPassword)';
  return `got ${JSON.stringify(address.slice(0, 60))}`;
}

function checkTls(tls: unknown, path: string, problems: OptionProblem[], check: CheckDto): void {
  if (isObject(tls)) check(RedisTlsOptionsDto, tls, `${path}.`, problems);
  else if (tls !== undefined && typeof tls !== 'boolean') problems.push({ path, reason: 'must be a boolean or an object' });
}

function isObject(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
