import { InvalidOptionsError, OptionProblem } from '../../../errors/invalid-options.error';
import type { RedisConnectionOptions } from '../redis-connection-options';
import { redisUrlProblem } from './check-redis-url';
import { splitNodeList } from './parse-node-address';

/**
 * Redis connection options from environment variables, for any topology; `undefined` when none is
 * set (e.g. to fall back to the memory backend):
 * - `REDIS_CLUSTER_NODES=127.0.0.1:7000,127.0.0.1:7001` → Cluster (seed nodes);
 * - `REDIS_SENTINELS=127.0.0.1:26379,127.0.0.1:26380` with `REDIS_SENTINEL_NAME=mymaster` (and
 *   `REDIS_SENTINEL_PASSWORD` if the sentinels have one) → Sentinel;
 * - `REDIS_URL=redis://user:pw@host:6379/0` (or `rediss://`) → standalone.
 * `REDIS_USERNAME`, `REDIS_PASSWORD` and `REDIS_TLS=true` apply to the data nodes of every topology.
 * `REDIS_URL` is checked here (a problem names the variable, never its value); addresses are checked
 * with the other options at start-up.
 */
export function redisOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RedisConnectionOptions | undefined {
  const clusterNodes = nonEmpty(env.REDIS_CLUSTER_NODES);
  const sentinels = nonEmpty(env.REDIS_SENTINELS);
  const url = nonEmpty(env.REDIS_URL);
  const problems: OptionProblem[] = [];
  if (clusterNodes && sentinels) problems.push({ path: 'REDIS_CLUSTER_NODES', reason: 'cannot be combined with REDIS_SENTINELS; set one' });
  const name = nonEmpty(env.REDIS_SENTINEL_NAME);
  if (sentinels && !name) problems.push({ path: 'REDIS_SENTINEL_NAME', reason: 'must name the master (as in `sentinel monitor <name> ...`) when REDIS_SENTINELS is set' });
  const urlProblem = url && !clusterNodes && !sentinels ? redisUrlProblem(url) : undefined;
  if (urlProblem !== undefined) problems.push({ path: 'REDIS_URL', reason: urlProblem });
  if (problems.length > 0) throw new InvalidOptionsError(problems);

  let options: RedisConnectionOptions;
  if (clusterNodes) options = { cluster: { nodes: splitNodeList(clusterNodes) } };
  else if (sentinels) {
    options = { sentinel: { name: name!, sentinels: splitNodeList(sentinels) } };
    const sentinelPassword = nonEmpty(env.REDIS_SENTINEL_PASSWORD);
    if (sentinelPassword) options.sentinel!.sentinelPassword = sentinelPassword;
  } else if (url) options = { url };
  else return undefined;

  const username = nonEmpty(env.REDIS_USERNAME);
  const password = nonEmpty(env.REDIS_PASSWORD);
  if (username) options.username = username;
  if (password) options.password = password;
  if (/^(1|true|yes)$/i.test(env.REDIS_TLS ?? '')) options.tls = true;
  return options;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
