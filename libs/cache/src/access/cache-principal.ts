/** Who is calling the cache: an id (audited as the actor), roles (mapped to permissions), a tenant. */
export interface CachePrincipal {
  readonly id: string;
  readonly roles: readonly string[];
  /** For namespaces with `scope: 'tenant'`. */
  readonly tenant?: string;
}
