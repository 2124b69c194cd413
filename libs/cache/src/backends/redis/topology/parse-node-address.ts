import type { RedisNodeAddress } from './redis-topology-options';

const HOST_PORT = /^(?:rediss?:\/\/)?(\[[0-9a-fA-F:.]+\]|[^\s:/@[\]]+):(\d{1,5})\/?$/;

/**
 * `{ host, port }` from `'host:port'`, `'redis://host:port'` or an object; `undefined` when the
 * text is not an address (the caller reports it with its field path). Credentials do not belong in
 * node lists: they are `username`/`password`.
 */
export function parseNodeAddress(address: RedisNodeAddress): { host: string; port: number } | undefined {
  if (typeof address === 'string') {
    const match = HOST_PORT.exec(address.trim());
    if (!match) return undefined;
    const port = Number(match[2]);
    return port >= 1 && port <= 65_535 ? { host: match[1].replace(/^\[|\]$/g, ''), port } : undefined;
  }
  if (address === null || typeof address !== 'object') return undefined;
  const { host, port } = address as { host?: unknown; port?: unknown };
  if (typeof host !== 'string' || host.length === 0) return undefined;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { host, port };
}

/** A comma-separated list (`'127.0.0.1:26379,127.0.0.1:26380'`), as in `REDIS_SENTINELS`. */
export function splitNodeList(list: string): string[] {
  return list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}
