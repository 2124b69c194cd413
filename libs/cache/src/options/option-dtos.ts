import {
  ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min,
} from 'class-validator';
import { KEY_CHARSETS } from '../keys/canonical-key';
import { KEY_SCOPES } from '../keys/scoped-key';

/*
 * class-validator shapes of the module options. Only the fields listed here are accepted: an unknown
 * field is reported (it is usually a typo). Fields whose type class-validator cannot express
 * (ttl, eviction, serializer, backends, tls) are checked in `resolveCacheOptions`.
 */

const SAFE_PREFIX = /^[^\s*?[\]\\\u0000-\u001f\u007f]*$/;
const SAFE_PREFIX_REASON = 'must not contain whitespace, control characters or the glob characters * ? [ ] \\';

export class NamespaceOptionsDto {
  @IsOptional() @IsString() @IsNotEmpty()
  backend?: string;

  @IsOptional()
  ttl?: unknown;

  @IsOptional() @IsInt() @Min(1) @Max(100_000_000)
  maxEntries?: number;

  @IsOptional() @IsInt() @Min(1)
  maxBytes?: number;

  @IsOptional() @IsInt() @Min(1) @Max(512 * 1024 * 1024)
  maxValueBytes?: number;

  @IsOptional() @IsString() @MaxLength(128) @Matches(SAFE_PREFIX, { message: SAFE_PREFIX_REASON })
  keyPrefix?: string;

  @IsOptional()
  eviction?: unknown;

  @IsOptional() @IsInt() @Min(1) @Max(65_536)
  maxKeyLength?: number;

  @IsOptional()
  serializer?: unknown;

  // Tiers and resilience (checked in tiers/resilience-options.ts).
  @IsOptional()
  l1?: unknown;

  @IsOptional()
  failSafe?: unknown;

  @IsOptional()
  lock?: unknown;

  @IsOptional()
  encryption?: unknown;

  // Checked in codec/payload-options.ts.
  @IsOptional()
  payloadFormat?: unknown;

  @IsOptional()
  compression?: unknown;

  @IsOptional() @IsIn(KEY_SCOPES)
  scope?: string;

  @IsOptional() @IsIn(KEY_CHARSETS)
  keyCharset?: string;

  @IsOptional()
  valueSchema?: unknown;
}

export class RedisOptionsDto {
  /** Checked by `redisUrlProblem` (without echoing it). */
  @IsOptional()
  url?: string;

  @IsOptional() @IsString() @IsNotEmpty()
  host?: string;

  @IsOptional() @IsInt() @Min(1) @Max(65_535)
  port?: number;

  @IsOptional() @IsString() @IsNotEmpty()
  username?: string;

  @IsOptional() @IsString()
  password?: string;

  @IsOptional() @IsInt() @Min(0)
  db?: number;

  @IsOptional()
  tls?: unknown;

  @IsOptional() @IsInt() @Min(1) @Max(600_000)
  connectTimeoutMs?: number;

  @IsOptional() @IsInt() @Min(1) @Max(600_000)
  commandTimeoutMs?: number;

  @IsOptional() @IsObject()
  sentinel?: object;

  @IsOptional() @IsObject()
  cluster?: object;

  @IsOptional() @IsObject()
  pool?: object;
}

export class RedisSentinelOptionsDto {
  @IsString() @IsNotEmpty()
  name!: string;

  @IsArray() @ArrayMinSize(1)
  sentinels!: unknown[];

  @IsOptional() @IsString() @IsNotEmpty()
  sentinelUsername?: string;

  @IsOptional() @IsString()
  sentinelPassword?: string;

  @IsOptional()
  sentinelTls?: unknown;
}

export class RedisClusterOptionsDto {
  @IsArray() @ArrayMinSize(1)
  nodes!: unknown[];

  @IsOptional() @IsObject()
  natMap?: object;
}

export class RedisPoolOptionsDto {
  @IsOptional() @IsInt() @Min(1) @Max(64)
  commandConnections?: number;
}

export class RedisTlsOptionsDto {
  @IsOptional()
  ca?: unknown;

  @IsOptional()
  cert?: unknown;

  @IsOptional()
  key?: unknown;

  @IsOptional() @IsString()
  servername?: string;

  @IsOptional() @IsBoolean()
  rejectUnauthorized?: boolean;
}

export class CacheModuleOptionsDto {
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
    message: 'must be 1-64 letters, digits, "_", "-" or ".", starting with a letter or digit',
  })
  defaultNamespace?: string;

  // No braces: they would make the global prefix every key's Redis Cluster hash tag.
  @IsOptional() @IsString() @MaxLength(128) @Matches(SAFE_PREFIX, { message: SAFE_PREFIX_REASON })
  @Matches(/^[^{}]*$/, { message: 'must not contain "{" or "}": the namespaces carry the hash tags' })
  keyPrefix?: string;

  @IsOptional() @IsObject()
  defaults?: object;

  @IsOptional() @IsObject()
  namespaces?: object;

  @IsOptional() @IsObject()
  redis?: object;

  @IsOptional() @IsObject()
  backends?: object;

  @IsOptional() @IsObject()
  encryptionProviders?: object;

  @IsOptional() @IsObject()
  warmup?: object;

  @IsOptional() @IsObject()
  bus?: object;

  @IsOptional() @IsObject()
  breaker?: object;

  // Checked field by field in resolveObservabilityOptions.
  @IsOptional()
  observability?: unknown;

  @IsOptional() @IsObject()
  rbac?: object;

  @IsOptional() @IsObject()
  audit?: object;
}

export class WarmupOptionsDto {
  @IsOptional() @IsBoolean()
  onBootstrap?: boolean;

  @IsOptional() @IsBoolean()
  failOnError?: boolean;
}

/** Fields whose value must never appear in an error message. */
export const SECRET_FIELDS = new Set(['password', 'sentinelPassword', 'key', 'cert', 'ca', 'url', 'secret', 'keys']);
