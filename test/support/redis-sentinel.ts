/**
 * A real Redis Sentinel group for tests: 1 master, 1 replica and 3 sentinels (quorum 2), all on
 * free loopback ports, in one fresh directory per run (sentinels rewrite their config files).
 * Ready means the replica is in sync and every sentinel sees the replica and its 2 peers, the
 * point from which a failover can happen (~2.5 s after spawn, see shared/redis-topologies.md).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askNode, freePort, RedisServer, startRedisServer, waitUntil } from './redis-server';

// The node helpers live with the launcher; specs take them from here too.
export { askNode, waitUntil };

export interface RedisSentinelGroup {
  readonly masterName: string;
  /** The data nodes as started; after a failover the replica is the master. */
  readonly master: RedisServer;
  readonly replica: RedisServer;
  readonly sentinels: readonly RedisServer[];
  /** `{ host, port }` of each sentinel, for `redis.sentinel.sentinels`. */
  readonly sentinelAddresses: { host: string; port: number }[];
  /** The master's port as the first answering sentinel names it. */
  currentMasterPort(): Promise<number>;
  /** Resolves when the sentinels name a master other than `port`; rejects after `timeoutMs`. */
  waitForNewMaster(port: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export interface RedisSentinelGroupOptions {
  masterName?: string;
  /** Sentinel `down-after-milliseconds`; 1000 for failover tests, larger for the rest. */
  downAfterMs?: number;
}

const REPLICATION_ARGS = ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'];

export async function startRedisSentinelGroup(options: RedisSentinelGroupOptions = {}): Promise<RedisSentinelGroup> {
  const masterName = options.masterName ?? 'mymaster';
  const downAfterMs = options.downAfterMs ?? 1_000;
  const root = mkdtempSync(join(tmpdir(), 'nest-cachekit-sentinel-'));
  const started: RedisServer[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.map((s) => s.stop()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const master = await startRedisServer({ dir: join(root, 'master'), args: REPLICATION_ARGS });
    started.push(master);
    const replica = await startRedisServer({
      dir: join(root, 'replica'), args: [...REPLICATION_ARGS, '--replicaof', '127.0.0.1', String(master.port)],
    });
    started.push(replica);
    const sentinels: RedisServer[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const dir = join(root, `sentinel-${i}`);
      const config = join(root, `sentinel-${i}.conf`);
      writeFileSync(config, [
        `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
        `sentinel failover-timeout ${masterName} ${Math.max(3_000, downAfterMs * 3)}`,
        `sentinel parallel-syncs ${masterName} 1`,
        '',
      ].join('\n'));
      const sentinel = await startRedisServer({ port, dir, sentinelConfig: config });
      started.push(sentinel);
      sentinels.push(sentinel);
    }
    await waitUntil(10_000, 'the sentinel group did not become ready', async () => {
      const link = await askNode(replica.port, (r) => r.info('replication'));
      if (!/master_link_status:up/.test(link)) return false;
      for (const s of sentinels) {
        const fields = await askNode(s.port, (r) => r.call('SENTINEL', 'MASTER', masterName) as Promise<string[]>);
        const info = toRecord(fields);
        if (info['num-slaves'] !== '1' || info['num-other-sentinels'] !== '2') return false;
      }
      return true;
    });

    const currentMasterPort = async (): Promise<number> => {
      for (const s of sentinels) {
        try {
          const addr = await askNode(s.port, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName) as Promise<string[]>);
          if (addr) return Number(addr[1]);
        } catch {
          // try the next sentinel
        }
      }
      throw new Error('no sentinel answered');
    };
    return {
      masterName,
      master,
      replica,
      sentinels,
      sentinelAddresses: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
      currentMasterPort,
      async waitForNewMaster(port, timeoutMs = 15_000) {
        let found = port;
        await waitUntil(timeoutMs, 'the sentinels did not promote a new master', async () => {
          found = await currentMasterPort();
          return found !== port;
        }, 20);
        return found;
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function toRecord(fields: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]] = fields[i + 1];
  return record;
}
