/**
 * The demo app of a compiled testing module, started on either HTTP platform with the settings the
 * demo's `main.ts` gives it (apps/demo/src/http-platform), ready for supertest on both.
 */
import { INestApplication } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { TestingModule } from '@nestjs/testing';
import { createDemoHttpAdapter } from '../../apps/demo/src/http-platform/demo-http-adapter';
import { HttpAdapterName } from './http-app';

export async function startDemoApp(moduleRef: TestingModule, adapter: HttpAdapterName): Promise<INestApplication> {
  const app = moduleRef.createNestApplication(await createDemoHttpAdapter(adapter), { logger: false });
  await app.init();
  // Fastify answers supertest's requests on its server once its plugins are loaded.
  if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return app;
}
