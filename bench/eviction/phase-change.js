// Synthetic phase-change traces: deterministic (seeded), sized to the cache, spliced from phases
// that favour opposite policies, to measure how fast an adaptive policy follows a workload that
// switches. Each trace is `{ name, ids, keys, phases: [{ name, start, end }] }` like readTrace's.
'use strict';

/** mulberry32 (the tests' seeded PRNG): a deterministic stream of numbers in [0, 1). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Accesses per phase, in units of the cache size: long enough to measure well after 10 × cache. */
const PHASE_LENGTH = 40;

/**
 * Recency: 30% of accesses are new keys, the rest re-read one of the last cache/2 new keys
 * (uniformly). Every re-read is within LRU's reach; a frequency filter with a small window turns
 * most of them away, since each key is young and seen only a few times.
 */
function* recency(random, size, n, tag) {
  const span = Math.max(1, Math.floor(size / 2));
  let newest = 0;
  for (let i = 0; i < n; i++) {
    if (newest < span || random() < 0.3) yield `${tag}:${newest++}`;
    else yield `${tag}:${newest - 1 - Math.floor(random() * span)}`;
  }
}

/** A loop over 1.5 × cache keys in order: LRU (and any recency policy) never hits. */
function* loop(random, size, n, tag) {
  const length = Math.max(2, Math.round(size * 1.5));
  for (let i = 0; i < n; i++) yield `${tag}:${i % length}`;
}

/**
 * Frequency: half the accesses go to a hot set of 0.6 × cache keys (uniformly), half to keys
 * never seen again. LRU needs about twice the cache to keep the hot set; a frequency filter keeps it.
 */
function* frequency(random, size, n, tag) {
  const hot = Math.max(1, Math.round(size * 0.6));
  for (let i = 0; i < n; i++) yield random() < 0.5 ? `${tag}:hot:${Math.floor(random() * hot)}` : `${tag}:once:${i}`;
}

const GENERATORS = { recency, loop, frequency };

/** The spliced traces: phases in order; the same generator twice gets fresh keys the second time. */
const PHASE_TRACES = {
  'recency-loop-recency': ['recency', 'loop', 'recency'],
  'frequency-recency-frequency': ['frequency', 'recency', 'frequency'],
};

/** Builds one spliced trace for a cache of `size` entries. */
function phaseChangeTrace(name, size, seed = 17) {
  const plan = PHASE_TRACES[name];
  if (plan === undefined) throw new Error(`unknown phase-change trace ${name} (known: ${Object.keys(PHASE_TRACES).join(', ')})`);
  const random = mulberry32(seed);
  const n = PHASE_LENGTH * size;
  const ids = new Int32Array(n * plan.length);
  const keys = [];
  const idOf = new Map();
  const phases = [];
  let at = 0;
  plan.forEach((phase, p) => {
    const start = at;
    for (const key of GENERATORS[phase](random, size, n, `${p}${phase}`)) {
      let id = idOf.get(key);
      if (id === undefined) {
        id = keys.length;
        idOf.set(key, id);
        keys.push(key);
      }
      ids[at++] = id;
    }
    phases.push({ name: phase, start, end: at });
  });
  return { name, ids, keys, phases };
}

module.exports = { phaseChangeTrace, PHASE_TRACES, PHASE_LENGTH, mulberry32 };
