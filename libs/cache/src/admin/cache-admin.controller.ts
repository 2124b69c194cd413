import {
  BadRequestException, Body, Controller, Get, HttpCode, NotFoundException, Post, Type, UseGuards, UsePipes, ValidationPipe,
} from '@nestjs/common';
import { CacheRegistry } from '../cache-registry';
import { InvalidKeyError } from '../errors/invalid-key.error';
import { TagsUnsupportedError } from '../errors/tags-unsupported.error';
import { UnknownNamespaceError } from '../errors/unknown-namespace.error';
import { NamespaceStats } from '../observability/namespace-stats';
import { CacheAccessControl } from '../access/cache-access-control';
import { CacheOperation } from '../access/cache-permission';
import { CacheRoles } from '../access/cache-roles.decorator';
import { CacheRolesGuard } from '../access/cache-roles.guard';
import { WarmupReport, WarmupService } from '../warmup/warmup.service';
import { InvalidateKeyDto, InvalidateTagDto, NamespaceTargetDto, WarmupRequestDto } from './admin-dtos';

/**
 * The admin API, built per `CacheAdminModule.register()` (its path and roles are options). Two
 * gates: `@CacheRoles(roles)` on the whole controller, then the namespace permission of each action
 * (RBAC): `invalidate` for keys and tags, `admin` for clearing, stats and warm-ups.
 */
export function createCacheAdminController(path: string, roles: readonly string[]): Type<unknown> {
  @Controller(path)
  @UseGuards(CacheRolesGuard)
  @CacheRoles(...roles)
  @UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }))
  class CacheAdminController {
    constructor(
      readonly registry: CacheRegistry,
      readonly access: CacheAccessControl,
      readonly warmups: WarmupService,
    ) {}

    /** Figures of the namespaces on which the caller holds `admin` (403 when none). */
    @Get('stats')
    stats(): NamespaceStats[] {
      const names = this.permitted(this.registry.names(), 'stats');
      return names.map((name) => this.registry.namespace(name).stats());
    }

    @Post('invalidate/key')
    @HttpCode(200)
    async invalidateKey(@Body() body: InvalidateKeyDto): Promise<{ removed: boolean }> {
      return { removed: await run(() => this.registry.namespace(body.namespace).invalidate(body.key)) };
    }

    @Post('invalidate/tag')
    @HttpCode(200)
    async invalidateTag(@Body() body: InvalidateTagDto): Promise<{ removed: number }> {
      return { removed: await run(() => this.registry.namespace(body.namespace).invalidateTag(body.tag)) };
    }

    @Post('invalidate/namespace')
    @HttpCode(200)
    async clear(@Body() body: NamespaceTargetDto): Promise<{ removed: number }> {
      return { removed: await run(() => this.registry.namespace(body.namespace).clear()) };
    }

    /** Runs the `@Warmup` methods (of one namespace, or of every namespace the caller holds `admin` on). */
    @Post('warmup')
    @HttpCode(200)
    async warmup(@Body() body: WarmupRequestDto): Promise<{ reports: WarmupReport[] }> {
      const namespace = body?.namespace; // a POST without a body warms every namespace the caller administers
      if (namespace !== undefined) await run(async () => this.registry.namespace(namespace));
      const names = this.permitted(namespace !== undefined ? [namespace] : this.registry.names(), 'warmup');
      const tasks = this.warmups.tasks().filter((task) => names.includes(task.namespace));
      return { reports: await this.warmups.run(tasks) };
    }

    /** The namespaces among `names` the caller may act on; a denial (audited) when there is none. */
    private permitted(names: readonly string[], operation: CacheOperation): string[] {
      const principal = this.access.current();
      const allowed = names.filter((name) => this.access.allows(principal, name, operation));
      if (allowed.length === 0) {
        if (names.length === 1) this.access.check(names[0], operation);
        throw this.access.deny(principal, names.length === 1 ? names[0] : '*', operation, 'needs "admin" on a namespace');
      }
      return allowed;
    }
  }
  return CacheAdminController;
}

/** Unknown namespaces are 404s and invalid keys or tags 400s, not 500s. */
async function run<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof UnknownNamespaceError) throw new NotFoundException(error.message);
    if (error instanceof InvalidKeyError || error instanceof TagsUnsupportedError) throw new BadRequestException(error.message);
    throw error;
  }
}
