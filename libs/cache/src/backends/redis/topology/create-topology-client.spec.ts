import { lookup } from 'node:dns';
import { Cluster } from 'ioredis';
import { createTopologyClient } from './create-topology-client';

describe('createTopologyClient on a Cluster with TLS', () => {
  it('dials nodes by the names given (a certificate for a DNS name must match) and leaves no single servername on every node', () => {
    const client = createTopologyClient({
      cluster: { nodes: ['redis-0.cache.internal:6379', 'redis-1.cache.internal:6379'] },
      tls: { servername: 'redis-0.cache.internal' },
    }) as Cluster;
    try {
      const lookedUp: string[] = [];
      client.options.dnsLookup!('redis-1.cache.internal', (error, address) => {
        expect(error).toBeNull();
        lookedUp.push(address);
      });
      expect(lookedUp).toEqual(['redis-1.cache.internal']);
      expect(client.options.redisOptions?.tls).toEqual({});
    } finally {
      client.disconnect();
    }
  });

  it('keeps ioredis\'s resolver without TLS', () => {
    const client = createTopologyClient({ cluster: { nodes: ['127.0.0.1:7000'] } }) as Cluster;
    try {
      expect(client.options.redisOptions?.tls).toBeUndefined();
      expect(client.options.dnsLookup).toBe(lookup); // ioredis's default
    } finally {
      client.disconnect();
    }
  });
});
