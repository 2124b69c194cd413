import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { createDemoHttpAdapter, demoHttpAdapterName } from './http-platform/demo-http-adapter';

async function bootstrap(): Promise<void> {
  const platform = demoHttpAdapterName(process.env);
  const app = await NestFactory.create(AppModule, await createDemoHttpAdapter(platform));
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, '127.0.0.1');
  const backend = process.env.REDIS_URL ? 'Redis (REDIS_URL)' : 'in-memory';
  Logger.log(`Demo music API on http://127.0.0.1:${port} (${platform}) with the ${backend} cache`, 'Demo');
}

void bootstrap();
