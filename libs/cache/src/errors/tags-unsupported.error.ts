import { CacheError } from './cache-error';

/** Tags were used on a namespace whose backend cannot index them (it has no `invalidateTag`). */
export class TagsUnsupportedError extends CacheError {
  readonly code = 'CACHE_TAGS_UNSUPPORTED';

  constructor(
    readonly namespace: string,
    readonly backend: string,
    reason = 'it has no invalidateTag()',
  ) {
    super(`Namespace "${namespace}" is on backend "${backend}", which does not support tags (${reason}).`);
  }
}
