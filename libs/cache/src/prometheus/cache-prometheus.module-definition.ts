import { ConfigurableModuleBuilder } from '@nestjs/common';
import { CachePrometheusOptions } from './prometheus-options';

export const {
  ConfigurableModuleClass: ConfigurableCachePrometheusModule,
  MODULE_OPTIONS_TOKEN: CACHE_PROMETHEUS_OPTIONS,
  OPTIONS_TYPE: CACHE_PROMETHEUS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: CACHE_PROMETHEUS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<CachePrometheusOptions>({ moduleName: 'CachePrometheus' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createCachePrometheusOptions')
  .build();
