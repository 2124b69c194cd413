import { createHash } from 'node:crypto';

/**
 * A strong entity tag for a stored response: a SHA-256 of its body (bytes, text, or the JSON the
 * adapters send for other values) and of the content type the handler set, so two entries share
 * a tag only when they are sent as the same bytes.
 */
export function strongEtag(body: unknown, contentType: string | undefined): string {
  const hash = createHash('sha256');
  hash.update(contentType ?? '').update('\u0000');
  if (Buffer.isBuffer(body)) hash.update('b').update(body);
  else if (typeof body === 'string') hash.update('s').update(body);
  else hash.update('j').update(JSON.stringify(body) ?? '');
  return `"${hash.digest('base64url')}"`;
}

/**
 * Whether `If-None-Match` matches `etag` (RFC 9110 13.1.2): `*` matches any current
 * representation, otherwise any listed entity tag does by weak comparison (a `W/` prefix on either
 * side is ignored). Malformed members of the list match nothing.
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  for (const match of header.matchAll(ENTITY_TAG)) if (match[1] === opaque) return true;
  return false;
}

/** One entity tag of a list: an optional `W/` and a quoted opaque tag (etagc has no `"`). */
const ENTITY_TAG = /(?:W\/)?("[^"]*")/g;
