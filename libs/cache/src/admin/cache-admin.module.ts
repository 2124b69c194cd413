import { DynamicModule, Module } from '@nestjs/common';
import { createCacheAdminController } from './cache-admin.controller';
import { InvalidArgumentError } from '../errors/invalid-argument.error';

export interface CacheAdminModuleOptions {
  /** Route prefix. Default `'cache/admin'`. */
  path?: string;
  /** Roles admitted to the admin API at all (`@CacheRoles`); each action then needs its namespace permission. */
  roles: string[];
}

/**
 * The optional admin REST API: `GET <path>/stats`, `POST <path>/invalidate/key | tag | namespace`,
 * `POST <path>/warmup`. Import it next to a global `CacheModule` (`isGlobal: true`).
 */
@Module({})
export class CacheAdminModule {
  static register(options: CacheAdminModuleOptions): DynamicModule {
    const roles = options?.roles;
    if (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string' || r === '')) {
      throw new InvalidArgumentError('CacheAdminModule.register({ roles }): roles must be an array of role names (the roles admitted to the admin API)');
    }
    return { module: CacheAdminModule, controllers: [createCacheAdminController(options.path ?? 'cache/admin', roles)] };
  }
}
