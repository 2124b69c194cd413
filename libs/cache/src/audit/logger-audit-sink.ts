import { Logger } from '@nestjs/common';
import { AuditRecord } from './audit-record';
import { AuditSink } from './audit-sink';

/** The default sink: one JSON line per record through Nest's logger, context `CacheAudit`. */
export class LoggerAuditSink implements AuditSink {
  private readonly logger = new Logger('CacheAudit');

  write(record: AuditRecord): void {
    this.logger.log(JSON.stringify(record));
  }
}
