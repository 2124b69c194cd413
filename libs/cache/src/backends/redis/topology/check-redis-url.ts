/**
 * Checks a Redis URL (`redis.url`, `REDIS_URL`) before any client sees it: a URL the client cannot
 * parse fails inside it with an error that carries the whole URL, password included (Node's
 * `ERR_INVALID_URL` keeps it as `input`), and start-up logs print it. The reasons name the part
 * that is wrong and never quote the URL or any piece of it.
 */

const FORM = 'redis://[user:password@]host[:port][/db] or rediss://…';
const ENCODE_HINT = 'percent-encode "@", ":", "/", "?", "#" and "%" in the user name and password, or give them as redis.username / redis.password';

/** What is wrong with `url` as a Redis URL, or undefined when a client can use it as it is. */
export function redisUrlProblem(url: unknown): string | undefined {
  if (typeof url !== 'string') return `must be a string (${FORM})`;
  const text = url.trim();
  const scheme = /^(rediss?):\/\//i.exec(text);
  if (scheme === null) return `must start with redis:// or rediss:// (${FORM})`;
  // The authority, read the way the URL parser reads it: up to the first "/", "?" or "#", the
  // credentials before its last "@".
  const authority = text.slice(scheme[0].length).split(/[/?#]/, 1)[0];
  if (text.slice(scheme[0].length + authority.length).includes('@')) {
    return `has "/", "?" or "#" in its user name or password; ${ENCODE_HINT}`;
  }
  const at = authority.lastIndexOf('@');
  const hostPort = authority.slice(at + 1);
  const port = /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostPort)?.[1];
  if (port !== undefined && port !== '' && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65_535)) {
    return 'has a port that is not a number from 1 to 65535';
  }
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return `cannot be parsed as a URL (${FORM}); ${ENCODE_HINT}`;
  }
  if (parsed.hostname === '') return `has no host (${FORM}); ${ENCODE_HINT}`;
  if (/\s/.test(decodeOrNull(parsed.hostname) ?? '')) return 'has a host with spaces in it';
  if (decodeOrNull(parsed.username) === null || decodeOrNull(parsed.password) === null) {
    return `has a user name or password that is not valid percent-encoding; ${ENCODE_HINT}`;
  }
  if (!/^\/?(\d+)?$/.test(parsed.pathname)) return 'has a path that is not a database number (/0, /1…)';
  return undefined;
}

function decodeOrNull(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
