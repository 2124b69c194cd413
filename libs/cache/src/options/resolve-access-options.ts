import { randomBytes } from 'node:crypto';
import { OptionProblem } from '../errors/invalid-options.error';
import { CACHE_PERMISSIONS, CachePermission, grantedMask } from '../access/cache-permission';
import { ResolvedRbacOptions } from '../access/rbac-options';
import { CacheModuleOptions } from './cache-module-options.interface';
import { AuditOptionsDto, RbacOptionsDto, SystemPrincipalDto } from './access-option-dtos';

export interface ResolvedAuditOptions {
  readonly enabled: boolean;
  readonly keyHashSecret: string | Buffer;
  /** No secret was configured: a random one was drawn for this process. */
  readonly generatedSecret: boolean;
}

type Check = (dto: new () => object, value: object, path: string, problems: OptionProblem[]) => void;

/** Validates `rbac` and `audit` (field paths like `rbac.roles.editor.tracks[1]`) and fills in defaults. */
export function resolveAccessOptions(
  raw: CacheModuleOptions, namespaces: readonly string[], problems: OptionProblem[], check: Check,
): { rbac: ResolvedRbacOptions; audit: ResolvedAuditOptions } {
  const rbac = isObject(raw.rbac) ? raw.rbac : {};
  if (isObject(raw.rbac)) check(RbacOptionsDto, raw.rbac, 'rbac.', problems);
  const grants = new Map<string, Map<string, number>>(namespaces.map((n) => [n, new Map()]));
  for (const [role, byNamespace] of Object.entries(isObject(rbac.roles) ? rbac.roles : {})) {
    if (!isObject(byNamespace)) {
      problems.push({ path: `rbac.roles.${role}`, reason: 'must be an object of namespace (or "*") → permissions' });
      continue;
    }
    for (const [namespace, permissions] of Object.entries(byNamespace)) {
      const path = `rbac.roles.${role}.${namespace}`;
      if (namespace !== '*' && !grants.has(namespace)) {
        problems.push({ path, reason: `unknown namespace "${namespace}" (known: ${namespaces.join(', ')}, or "*")` });
        continue;
      }
      if (!Array.isArray(permissions)) {
        problems.push({ path, reason: `must be an array of ${CACHE_PERMISSIONS.map((p) => `"${p}"`).join(', ')}` });
        continue;
      }
      const bad = permissions.findIndex((p) => !(CACHE_PERMISSIONS as readonly unknown[]).includes(p));
      if (bad >= 0) {
        problems.push({ path: `${path}[${bad}]`, reason: `must be one of ${CACHE_PERMISSIONS.map((p) => `"${p}"`).join(', ')} (got ${JSON.stringify(permissions[bad])?.slice(0, 40)})` });
        continue;
      }
      const mask = grantedMask(permissions as CachePermission[]);
      for (const target of namespace === '*' ? grants.keys() : [namespace]) {
        const forNamespace = grants.get(target)!;
        forNamespace.set(role, (forNamespace.get(role) ?? 0) | mask);
      }
    }
  }
  const resolver = rbac.principalResolver as { resolve?: unknown } | undefined;
  if (resolver !== undefined && (!isObject(resolver) || typeof resolver.resolve !== 'function')) {
    problems.push({ path: 'rbac.principalResolver', reason: 'must be an object with resolve(request)' });
  }
  const system = isObject(rbac.system) ? rbac.system : {};
  if (isObject(rbac.system)) check(SystemPrincipalDto, rbac.system, 'rbac.system.', problems);
  else if (rbac.system !== undefined) problems.push({ path: 'rbac.system', reason: 'must be an object { id?, roles? }' });

  const audit = isObject(raw.audit) ? raw.audit : {};
  if (isObject(raw.audit)) check(AuditOptionsDto, raw.audit, 'audit.', problems);
  const sink = audit.sink as { write?: unknown } | undefined;
  if (sink !== undefined && (!isObject(sink) || typeof sink.write !== 'function')) {
    problems.push({ path: 'audit.sink', reason: 'must be an object with write(record)' });
  }
  const secret = typeof audit.keyHashSecret === 'string' ? audit.keyHashSecret : undefined;
  const anonymousRoles = Array.isArray(rbac.anonymousRoles) ? [...rbac.anonymousRoles] : [];
  const systemPrincipal = { id: typeof system.id === 'string' ? system.id : 'system', roles: Array.isArray(system.roles) ? [...system.roles] : [] };
  return {
    rbac: {
      enabled: rbac.enabled === true,
      grants,
      anonymous: { id: 'anonymous', roles: anonymousRoles },
      system: systemPrincipal,
      // Its own object (not `anonymous`), so that a denial can say the call had no scope at all.
      unscoped: rbac.unscopedPrincipal === 'system' ? systemPrincipal : { id: 'anonymous', roles: anonymousRoles },
      systemUnrestricted: !Array.isArray(system.roles),
    },
    audit: {
      enabled: typeof audit.enabled === 'boolean' ? audit.enabled : rbac.enabled === true || isObject(raw.audit),
      keyHashSecret: secret ?? randomBytes(32),
      generatedSecret: secret === undefined,
    },
  };
}

function isObject(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
