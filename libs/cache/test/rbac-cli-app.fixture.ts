import { Injectable, Module } from '@nestjs/common';
import { AuditRecord } from '../src/audit/audit-record';
import { CacheModule } from '../src/cache.module';
import { Warmup } from '../src/warmup/warmup.decorator';

/** An app for the CLI spec: RBAC on, no anonymous rights, the system principal restricted by an env variable. */
export const auditRecords: AuditRecord[] = [];

@Injectable()
class Warmups {
  @Warmup({ namespace: 'tracks' })
  async tracks(): Promise<{ key: string; value: unknown }[]> {
    return [{ key: 'track:1', value: { id: 1 } }];
  }
}

@Module({
  imports: [
    // Async, so that the environment is read at each start, not once at import.
    CacheModule.forRootAsync({
      isGlobal: true,
      namespaces: ['tracks'],
      useFactory: () => ({
        namespaces: { tracks: {} },
        rbac: {
          enabled: true,
          roles: { reader: { '*': ['read'] } },
          system: process.env.RBAC_CLI_SYSTEM_ROLES === undefined ? { id: 'batch' } : { id: 'batch', roles: process.env.RBAC_CLI_SYSTEM_ROLES.split(',') },
        },
        audit: { sink: { write: (record: AuditRecord) => void auditRecords.push(record) }, keyHashSecret: 'cli-fixture-secret-0123' },
      }),
    }),
  ],
  providers: [Warmups],
})
export class AppModule {}
