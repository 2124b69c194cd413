// A real Redis Cluster for tests and benches: 3 masters and 3 replicas on free loopback ports, each
// with an explicitly chosen free cluster bus port (port+10000 may be taken or above 65535), made with
// `redis-cli --cluster create`, in one fresh directory per run (nodes.conf is rewritten by the
// servers). Ready means every node reports `cluster_state:ok`, knows all 6 nodes and sees 3 masters
// with slots and 3 replicas, and every replica's link to its master is up (~2.5 s after spawn).
// Types: redis-cluster.d.ts.
'use strict';
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { askNode, freePort, runRedisCli, startRedisServer, waitUntil } = require('./redis-server');

async function startRedisCluster(options = {}) {
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1_000;
  const root = mkdtempSync(join(tmpdir(), 'nest-cachekit-cluster-'));
  const nodes = [];
  const stopAll = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const usedPorts = new Set();
    const pickPort = async () => {
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

    const dead = new Set();
    const live = () => nodes.filter((n) => !dead.has(n.port));
    const describe = async (viaPort) => {
      const port = viaPort ?? live()[0].port;
      return parseClusterNodes(await askNode(port, (r) => r.call('CLUSTER', 'NODES')));
    };
    const allOk = async () => {
      for (const n of live()) {
        const info = await askNode(n.port, (r) => r.call('CLUSTER', 'INFO'));
        if (!/cluster_state:ok/.test(info)) return false;
      }
      return true;
    };
    await waitUntil(15_000, 'the cluster did not become ready', async () => {
      if (!(await allOk())) return false;
      for (const n of nodes) {
        const info = await askNode(n.port, (r) => r.call('CLUSTER', 'INFO'));
        if (!/cluster_known_nodes:6\b/.test(info)) return false;
        const replication = await askNode(n.port, (r) => r.info('replication'));
        if (/role:slave/.test(replication) && !/master_link_status:up/.test(replication)) return false;
        // Every node's view agrees on the roles (gossip can show a fresh replica as a master for a while).
        const view = parseClusterNodes(await askNode(n.port, (r) => r.call('CLUSTER', 'NODES')));
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
function parseClusterNodes(text) {
  return text.trim().split('\n').map((line) => {
    const [id, address, flags, master, , , , , ...slotFields] = line.trim().split(' ');
    const port = Number(address.split('@')[0].split(':')[1]);
    const role = flags.includes('master') ? 'master' : 'replica';
    const slots = slotFields.filter((f) => !f.startsWith('[')).map((f) => {
      const [from, to] = f.split('-').map(Number);
      return [from, to ?? from];
    });
    return { id, port, role, ...(role === 'replica' && master !== '-' ? { masterId: master } : {}), slots };
  });
}

module.exports = { startRedisCluster, parseClusterNodes };
