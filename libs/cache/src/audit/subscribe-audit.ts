import { CacheEvents } from '../events/cache-events';
import { AuditActor } from './audit-record';
import { AuditTrail } from './audit-trail';

/**
 * Records invalidations, tag invalidations, namespace clears, tamper detections and key rotations
 * (entries re-sealed with the newest key) from the cache events. Listeners run synchronously inside the operation, so `actor()` sees the caller's principal.
 */
export function subscribeAudit(events: CacheEvents, trail: AuditTrail, actor: () => AuditActor): void {
  events.on('invalidate', (e) => trail.record({ ...actor(), action: 'invalidate', namespace: e.namespace, key: e.key, outcome: 'success', detail: { existed: e.existed } }));
  events.on('tagInvalidated', (e) => trail.record({ ...actor(), action: 'invalidateTag', namespace: e.namespace, tag: e.tag, outcome: 'success', detail: { removed: e.removed } }));
  events.on('namespaceCleared', (e) => trail.record({ ...actor(), action: 'clear', namespace: e.namespace, outcome: 'success', detail: { removed: e.removed } }));
  // Emitted by the encryption layer when an entry fails authentication.
  events.on('tamper', (e) => trail.record({ ...actor(), action: 'tamper', namespace: e.namespace, key: e.key, outcome: 'detected', detail: { reason: e.reason } }));
  // Emitted by the encryption layer when a read re-sealed an entry with the newest key; key ids only.
  events.on('keyRotated', (e) => trail.record({
    ...actor(), action: 'keyRotation', namespace: e.namespace, key: e.key, outcome: 'success',
    detail: { ...(e.fromKeyId === undefined ? {} : { fromKeyId: e.fromKeyId }), ...(e.toKeyId === undefined ? {} : { toKeyId: e.toKeyId }) },
  }));
}
