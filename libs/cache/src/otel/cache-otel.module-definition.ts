import { ConfigurableModuleBuilder } from '@nestjs/common';
import { CacheOtelOptions } from './otel-options';

export const {
  ConfigurableModuleClass: ConfigurableCacheOtelModule,
  MODULE_OPTIONS_TOKEN: CACHE_OTEL_OPTIONS,
  OPTIONS_TYPE: CACHE_OTEL_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: CACHE_OTEL_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<CacheOtelOptions>({ moduleName: 'CacheOtel' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createCacheOtelOptions')
  .build();
