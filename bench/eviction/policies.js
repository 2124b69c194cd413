// The policies the trace simulator replays. Each `open(size)` returns a cache-aside replayer,
// `access(key)` → hit (true) or miss-then-insert (false): ours through the memory backend (the same
// slot interface and eviction order a namespace uses), peers from npm through their own APIs.
// OPT is offline, so it only has `hits(keys, ids, size)`.
'use strict';
const { LRUCache } = require('lru-cache');
const { newCache } = require('transitory');
const { SieveCache } = require('@neophi/sieve-cache');
const lib = require('../../libs/cache');
const { beladyHits } = require('./belady-opt');

/** A MemoryBackend bounded by entries, with `createStrategy()` as its eviction strategy. */
function throughMemoryBackend(createStrategy) {
  return (size) => {
    const backend = new lib.MemoryBackend({ maxEntries: size, strategy: createStrategy() });
    return {
      access(key) {
        if (backend.get(key) !== undefined) return true;
        backend.set(key, true, 0, 0);
        return false;
      },
      state: () => backend.strategyState(),
    };
  };
}

const POLICIES = {
  opt: { label: 'OPT (Belady)', kind: 'bound', offline: (keys, ids, size) => beladyHits(ids, size, keys.length) },
  lru: { label: 'LRU (ours)', kind: 'ours', open: throughMemoryBackend(() => new lib.LruStrategy()) },
  lfu: { label: 'LFU (ours)', kind: 'ours', open: throughMemoryBackend(() => new lib.LfuStrategy()) },
  adaptive: { label: 'adaptive (ours)', kind: 'ours', open: throughMemoryBackend(() => new lib.AdaptiveStrategy()) },
  transitory: {
    label: 'transitory (W-TinyLFU)',
    kind: 'peer',
    open: (size) => {
      const cache = newCache().maxSize(size).build();
      return {
        access(key) {
          if (cache.getIfPresent(key) !== null) return true;
          cache.set(key, true);
          // transitory evicts from a timer, letting the cache overshoot meanwhile; run its
          // maintenance now so that it holds `size` entries like every other policy here.
          cache.cleanUp();
          return false;
        },
      };
    },
  },
  sieve: {
    label: '@neophi/sieve-cache (SIEVE)',
    kind: 'peer',
    open: (size) => {
      const cache = new SieveCache(size);
      return {
        access(key) {
          if (cache.get(key) !== undefined) return true;
          cache.set(key, true);
          return false;
        },
      };
    },
  },
  'lru-cache': {
    label: 'lru-cache',
    kind: 'peer',
    open: (size) => {
      const cache = new LRUCache({ max: size });
      return {
        access(key) {
          if (cache.get(key) !== undefined) return true;
          cache.set(key, true);
          return false;
        },
      };
    },
  },
};

/** Replays the trace (`keys[ids[i]]` in order) through a fresh cache of `size`: total hits, and the hit of each access if `perAccess`. */
function replayTrace(policy, keys, ids, size, perAccess = false) {
  if (policy.offline !== undefined) return { hits: policy.offline(keys, ids, size) };
  const cache = policy.open(size);
  const hitAt = perAccess ? new Uint8Array(ids.length) : null;
  let hits = 0;
  for (let i = 0; i < ids.length; i++) {
    if (cache.access(keys[ids[i]])) {
      hits++;
      if (hitAt !== null) hitAt[i] = 1;
    }
  }
  return { hits, hitAt, state: cache.state?.() };
}

module.exports = { POLICIES, throughMemoryBackend, replayTrace };
