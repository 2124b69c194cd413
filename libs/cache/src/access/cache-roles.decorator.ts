import { SetMetadata } from '@nestjs/common';

export const CACHE_ROLES_METADATA = 'nest-cachekit:roles';

/**
 * Lets only principals holding at least one of `roles` through `CacheRolesGuard` (on a handler or a
 * controller; the handler's list wins). `@CacheRoles()` with no role lets no one through.
 */
export const CacheRoles = (...roles: string[]): MethodDecorator & ClassDecorator => SetMetadata(CACHE_ROLES_METADATA, roles);
