import { Cluster } from 'ioredis';
import { BackendUnavailableError } from '../../errors/backend-unavailable.error';
import { refusedDuringMigration, RedisBackend } from './redis-backend';
import { ScriptedClient } from './redis-scripts';

/** EXEC's error when queued commands met different redirections: nothing applied, the reasons in previousErrors. */
function execAbort(...reasons: string[]): Error {
  return Object.assign(new Error('EXECABORT Transaction discarded because of previous errors.'), { previousErrors: reasons.map((r) => new Error(r)) });
}

/** A Cluster client (for `instanceof`) whose MULTI fails as scripted, then succeeds; records what EXEC was asked to write. */
function scriptedCluster(failures: Error[]): { client: ScriptedClient; execs: () => number; written: string[] } {
  const client = Object.create(Cluster.prototype) as Cluster & { status: string };
  Object.defineProperty(client, 'status', { value: 'ready' });
  let execs = 0;
  const written: string[] = [];
  (client as any).multi = () => {
    const queued: string[] = [];
    const tx = {
      set: (key: string) => { queued.push(key); return tx; },
      exec: async () => {
        execs++;
        const failure = failures.shift();
        if (failure) throw failure;
        written.push(...queued);
        return queued.map(() => [null, 'OK']);
      },
    };
    return tx;
  };
  return { client: client as unknown as ScriptedClient, execs: () => execs, written };
}

describe('mset during a slot migration (Cluster)', () => {
  it('recognises a refusal by the migration, directly or as the reasons of an EXECABORT, and nothing else', () => {
    expect(refusedDuringMigration(new Error('TRYAGAIN Multiple keys request during rehashing of slot'))).toBe(true);
    expect(refusedDuringMigration(new BackendUnavailableError('redis', 'n', 'mset', execAbort('ASK 866 127.0.0.1:7001', 'TRYAGAIN Multiple keys')))).toBe(true);
    expect(refusedDuringMigration(new BackendUnavailableError('redis', 'n', 'mset', execAbort('MOVED 866 127.0.0.1:7002')))).toBe(true);
    expect(refusedDuringMigration(new BackendUnavailableError('redis', 'n', 'mset', execAbort('OOM command not allowed')))).toBe(false);
    expect(refusedDuringMigration(new Error('Connection is closed.'))).toBe(false);
  });

  it('sends the transaction again after an EXECABORT caused by the migration, and writes it once', async () => {
    const cluster = scriptedCluster([execAbort('ASK 866 127.0.0.1:7001', 'TRYAGAIN Multiple keys'), execAbort('TRYAGAIN Multiple keys')]);
    const backend = new RedisBackend(cluster.client, '{tracks}:', 'tracks');
    await backend.mset([{ key: 'a', value: '1', ttlMs: 0, sizeBytes: 1 }, { key: 'b', value: '2', ttlMs: 0, sizeBytes: 1 }]);
    expect(cluster.execs()).toBe(3);
    expect(cluster.written).toEqual(['{tracks}:a', '{tracks}:b']);
  });

  it('does not retry other failures', async () => {
    const cluster = scriptedCluster([execAbort('OOM command not allowed when used memory > maxmemory')]);
    const backend = new RedisBackend(cluster.client, '{tracks}:', 'tracks');
    await expect(backend.mset([{ key: 'a', value: '1', ttlMs: 0, sizeBytes: 1 }])).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(cluster.execs()).toBe(1);
    expect(cluster.written).toEqual([]);
  });
});
