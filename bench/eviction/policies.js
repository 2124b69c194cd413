// The policies the trace simulator replays, each as `hits(keys, ids, size)`: ours through the
// memory backend (the same slot interface and eviction order a namespace uses), and peers from npm.
'use strict';
const { LRUCache } = require('lru-cache');
const { newCache } = require('transitory');
const { SieveCache } = require('@neophi/sieve-cache');
const lib = require('../../libs/cache');
const { beladyHits } = require('./belady-opt');

/** Replays through a MemoryBackend bounded by entries, with `strategy` as its eviction strategy. */
function throughMemoryBackend(createStrategy) {
  return (keys, ids, size) => {
    const backend = new lib.MemoryBackend({ maxEntries: size, strategy: createStrategy() });
    let hits = 0;
    for (let i = 0; i < ids.length; i++) {
      const key = keys[ids[i]];
      if (backend.get(key) !== undefined) hits++;
      else backend.set(key, true, 0, 0);
    }
    return { hits, state: backend.strategyState() };
  };
}

const POLICIES = {
  opt: { label: 'OPT (Belady)', kind: 'bound', hits: (keys, ids, size) => ({ hits: beladyHits(ids, size, keys.length) }) },
  lru: { label: 'LRU (ours)', kind: 'ours', hits: throughMemoryBackend(() => new lib.LruStrategy()) },
  lfu: { label: 'LFU (ours)', kind: 'ours', hits: throughMemoryBackend(() => new lib.LfuStrategy()) },
  adaptive: { label: 'adaptive (ours)', kind: 'ours', hits: throughMemoryBackend(() => new lib.AdaptiveStrategy()) },
  'lru-cache': {
    label: 'lru-cache',
    kind: 'peer',
    hits: (keys, ids, size) => {
      const cache = new LRUCache({ max: size });
      let hits = 0;
      for (let i = 0; i < ids.length; i++) {
        const key = keys[ids[i]];
        if (cache.get(key) !== undefined) hits++;
        else cache.set(key, true);
      }
      return { hits };
    },
  },
  transitory: {
    label: 'transitory (W-TinyLFU)',
    kind: 'peer',
    hits: (keys, ids, size) => {
      const cache = newCache().maxSize(size).build();
      let hits = 0;
      for (let i = 0; i < ids.length; i++) {
        const key = keys[ids[i]];
        if (cache.getIfPresent(key) !== null) hits++;
        else {
          cache.set(key, true);
          // transitory evicts from a timer, letting the cache overshoot meanwhile; run its
          // maintenance now so that it holds `size` entries like every other policy here.
          cache.cleanUp();
        }
      }
      return { hits };
    },
  },
  sieve: {
    label: '@neophi/sieve-cache (SIEVE)',
    kind: 'peer',
    hits: (keys, ids, size) => {
      const cache = new SieveCache(size);
      let hits = 0;
      for (let i = 0; i < ids.length; i++) {
        const key = keys[ids[i]];
        if (cache.get(key) !== undefined) hits++;
        else cache.set(key, true);
      }
      return { hits };
    },
  },
};

module.exports = { POLICIES };
