// Types of redis-cluster.js: a real 3 + 3 Redis Cluster for tests and benches.
import type { RedisServer } from './redis-server';

export interface ClusterNodeInfo {
  readonly id: string;
  readonly port: number;
  readonly role: 'master' | 'replica';
  /** Of a replica: its master's id. */
  readonly masterId?: string;
  /** Of a master: `[from, to]` slot ranges. */
  readonly slots: [number, number][];
}

export interface RedisClusterHandle {
  readonly nodes: readonly RedisServer[];
  /** Seed nodes for `redis.cluster.nodes`. */
  readonly seeds: { host: string; port: number }[];
  /** The topology as the node on `viaPort` (default: the first live node) sees it now. */
  describe(viaPort?: number): Promise<ClusterNodeInfo[]>;
  /** The server handle of a node by port. */
  node(port: number): RedisServer;
  /** Resolves when every live node reports `cluster_state:ok` and `port` is no longer a master. */
  waitForFailover(deadPort: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /** `cluster-node-timeout`; 1000 for failover tests (the default), more where no failover is wanted. */
  nodeTimeoutMs?: number;
}

export function startRedisCluster(options?: RedisClusterOptions): Promise<RedisClusterHandle>;

/** `CLUSTER NODES` lines → nodes (flags `fail` and `noaddr` nodes are kept, with their role). */
export function parseClusterNodes(text: string): ClusterNodeInfo[];
