/**
 * A real Redis Cluster for tests: 3 masters and 3 replicas on free loopback ports, each with an
 * explicitly chosen free cluster bus port (port+10000 may be taken or above 65535), made with
 * `redis-cli --cluster create`, in one fresh directory per run (nodes.conf is rewritten by the
 * servers). Ready means every node reports `cluster_state:ok`, knows all 6 nodes and sees 3 masters
 * with slots and 3 replicas, and every replica's link to its master is up (~2.5 s after spawn).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askNode, waitUntil } from './redis-sentinel';
import { freePort, RedisServer, startRedisServer } from './redis-server';

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
  /** `cluster-node-timeout`; 1000 for failover tests. */
  nodeTimeoutMs?: number;
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1_000;
  const root = mkdtempSync(join(tmpdir(), 'nest-cachekit-cluster-'));
  const nodes: RedisServer[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const usedPorts = new Set<number>();
    const pickPort = async (): Promise<number> => {
      for (;;) {
        const port = await freePort();
        if (!usedPorts.has(port)) {
          usedPorts.add(port);
          return port;
        }
      }
    };
    const started = await Promise.all(Array.from({ length: 6 }, async (_, i) => {
      const busPort = await pickPort();
      const dir = join(root, `node-${i}`);
      return startRedisServer({
        dir,
        args: ['--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--cluster-config-file', join(dir, 'nodes.conf'),
          '--cluster-node-timeout', String(nodeTimeoutMs), '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'],
      });
    }));
    nodes.push(...started);
    await runRedisCli(['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes']);

    const dead = new Set<number>();
    const live = (): RedisServer[] => nodes.filter((n) => !dead.has(n.port));
    const describe = async (viaPort?: number): Promise<ClusterNodeInfo[]> => {
      const port = viaPort ?? live()[0].port;
      return parseClusterNodes(await askNode(port, (r) => r.call('CLUSTER', 'NODES') as Promise<string>));
    };
    const allOk = async (): Promise<boolean> => {
      for (const n of live()) {
        const info = await askNode(n.port, (r) => r.call('CLUSTER', 'INFO') as Promise<string>);
        if (!/cluster_state:ok/.test(info)) return false;
      }
      return true;
    };
    await waitUntil(15_000, 'the cluster did not become ready', async () => {
      if (!(await allOk())) return false;
      for (const n of nodes) {
        const info = await askNode(n.port, (r) => r.call('CLUSTER', 'INFO') as Promise<string>);
        if (!/cluster_known_nodes:6\b/.test(info)) return false;
        const replication = await askNode(n.port, (r) => r.info('replication'));
        if (/role:slave/.test(replication) && !/master_link_status:up/.test(replication)) return false;
        // Every node's view agrees on the roles (gossip can show a fresh replica as a master for a while).
        const view = parseClusterNodes(await askNode(n.port, (r) => r.call('CLUSTER', 'NODES') as Promise<string>));
        if (view.filter((v) => v.role === 'master' && v.slots.length > 0).length !== 3 || view.filter((v) => v.role === 'replica').length !== 3) return false;
      }
      return true;
    }, 20);

    return {
      nodes,
      seeds: nodes.slice(0, 3).map((n) => ({ host: '127.0.0.1', port: n.port })),
      describe,
      node(port) {
        const found = nodes.find((n) => n.port === port);
        if (!found) throw new Error(`no cluster node on port ${port}`);
        return found;
      },
      async waitForFailover(deadPort, timeoutMs = 15_000) {
        dead.add(deadPort);
        await waitUntil(timeoutMs, 'the cluster did not fail over', async () => {
          if (!(await allOk())) return false;
          const view = await describe();
          return view.filter((n) => n.role === 'master' && n.slots.length > 0).every((n) => n.port !== deadPort);
        }, 20);
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** `CLUSTER NODES` lines → nodes (flags `fail` and `noaddr` nodes are kept, with their role). */
export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text.trim().split('\n').map((line) => {
    const [id, address, flags, master, , , , , ...slotFields] = line.trim().split(' ');
    const port = Number(address.split('@')[0].split(':')[1]);
    const role = flags.includes('master') ? 'master' : 'replica';
    const slots = slotFields.filter((f) => !f.startsWith('[')).map((f) => {
      const [from, to] = f.split('-').map(Number);
      return [from, to ?? from] as [number, number];
    });
    return { id, port, role, ...(role === 'replica' && master !== '-' ? { masterId: master } : {}), slots };
  });
}

function runRedisCli(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`redis-cli ${args.slice(0, 2).join(' ')} failed (${code}): ${output.slice(-500)}`));
    });
  });
}
