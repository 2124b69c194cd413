import { Test } from '@nestjs/testing';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { firstValueFrom, Observable } from 'rxjs';
import { CacheModule } from '../cache.module';
import { CacheAccessControl } from './cache-access-control';
import { PrincipalContextInterceptor } from './principal-context.interceptor';

describe('PrincipalContextInterceptor', () => {
  async function setup(options: Parameters<typeof CacheModule.forRoot>[0]) {
    const moduleRef = await Test.createTestingModule({ imports: [CacheModule.forRoot(options)] }).compile();
    const access = moduleRef.get(CacheAccessControl);
    const interceptor = moduleRef.get(PrincipalContextInterceptor);
    /** Whom the handler runs as, the handler's observable subscribed later, outside any scope (as Nest does). */
    const seenBy = (type: string, args: unknown[]) => {
      const context = new ExecutionContextHost(args);
      context.setType(type);
      const handled = interceptor.intercept(context, { handle: () => new Observable<string>((s) => { s.next(access.current().id); s.complete(); }) });
      return new Promise<string>((resolve) => setImmediate(() => resolve(firstValueFrom(handled) as Promise<string>)));
    };
    return { moduleRef, access, seenBy };
  }

  it('runs an HTTP or GraphQL handler as the request\'s user, resolved when the handler runs', async () => {
    const { moduleRef, seenBy } = await setup({ rbac: { enabled: true } });
    expect(await seenBy('http', [{ user: { id: 'ann' } }, {}, () => undefined])).toBe('ann');
    expect(await seenBy('graphql', [{}, {}, { req: { user: { id: 'bob' } } }, {}])).toBe('bob');
    const late: { user?: unknown } = {};
    const pending = seenBy('http', [late, {}, () => undefined]);
    late.user = { id: 'set-after-the-interceptor' };
    expect(await pending).toBe('set-after-the-interceptor');
    await moduleRef.close();
  });

  it('leaves other transports to their own scope (runAs), and does nothing while no principal is needed', async () => {
    const { moduleRef, access, seenBy } = await setup({ rbac: { enabled: true } });
    expect(await seenBy('rpc', [{ user: { id: 'ann' } }, {}])).toBe('anonymous');
    expect(await access.runAs({ id: 'worker', roles: [] }, () => seenBy('rpc', [{}, {}]))).toBe('worker');
    await moduleRef.close();
    const off = await setup({});
    expect(await off.seenBy('http', [{ user: { id: 'ann' } }, {}, () => undefined])).toBe('anonymous');
    await off.moduleRef.close();
  });
});
