import { Inject } from '@nestjs/common';

/** The injection token of a namespace's `CacheNamespace`. */
export function getCacheToken(namespace: string): string {
  return `nest-cachekit:namespace:${namespace}`;
}

/**
 * Injects the `CacheNamespace` of one namespace:
 * `constructor(@InjectCache('users') private readonly users: CacheNamespace<UserProfile>) {}`.
 * With `forRoot` every configured namespace can be injected; with `forRootAsync`, list the names in
 * its `namespaces` option.
 */
export const InjectCache = (namespace: string): ParameterDecorator & PropertyDecorator =>
  Inject(getCacheToken(namespace)) as ParameterDecorator & PropertyDecorator;
