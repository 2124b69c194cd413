import { ResolvedResilienceOptions } from '../tiers/tier-options';
import { EvictionStrategyFactory } from '../eviction/eviction-strategy.interface';
import { ResolvedEncryption } from '../security/encryption-options';
import { PayloadFormat, ResolvedCompression } from '../codec/payload-options';
import { NamespaceSerializer } from '../serialization/binary-serializer.interface';
import { KeyCharset } from '../keys/canonical-key';
import { KeyScope } from '../keys/scoped-key';
import { ValueSchemaCheck } from '../security/value-schema/value-schema';

/** A namespace's settings after validation, with every default filled in. */
export interface ResolvedNamespaceOptions {
  readonly name: string;
  readonly backend: string;
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly maxValueBytes: number;
  /** Full prefix: global `keyPrefix` + the namespace's own. */
  readonly keyPrefix: string;
  readonly evictionName: string;
  readonly eviction: EvictionStrategyFactory;
  readonly maxKeyLength: number;
  readonly serializer: NamespaceSerializer;
  /** Set when the namespace has an `l1` (tiers, bus, fail-safe, lock). */
  readonly resilience?: ResolvedResilienceOptions;
  /** Absent when encryption is off. */
  readonly encryption?: ResolvedEncryption;
  readonly payloadFormat: PayloadFormat;
  /** Absent when compression is off. */
  readonly compression?: ResolvedCompression;
  readonly scope: KeyScope;
  readonly keyCharset: KeyCharset;
  /** Set when `valueSchema` is configured. */
  readonly valueSchema?: ValueSchemaCheck;
}
