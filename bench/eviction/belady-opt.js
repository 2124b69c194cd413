// Belady's optimal policy (MIN), offline: the hit count no policy can beat on a given trace.
'use strict';

/**
 * Hits of the offline optimum for a cache of `size` entries over `ids` (key ids 0 … uniqueCount-1,
 * in access order). On a miss the optimum may also decline to cache the key (bypass), which makes
 * it an upper bound for every policy, including ones that always insert. O(n log size): next-use
 * indices in one backward pass, then an indexed max-heap of cached keys by next use.
 */
function beladyHits(ids, size, uniqueCount) {
  const n = ids.length;
  if (size < 1 || n === 0) return 0;
  const NEVER = n;
  const nextUse = new Int32Array(n);
  const upcoming = new Int32Array(uniqueCount).fill(NEVER);
  for (let i = n - 1; i >= 0; i--) {
    nextUse[i] = upcoming[ids[i]];
    upcoming[ids[i]] = i;
  }
  const heapId = new Int32Array(size);
  const heapNext = new Int32Array(size);
  const position = new Int32Array(uniqueCount).fill(-1);
  let length = 0;
  let hits = 0;

  const place = (at, id, next) => {
    heapId[at] = id;
    heapNext[at] = next;
    position[id] = at;
  };
  const siftUp = (at) => {
    const id = heapId[at];
    const next = heapNext[at];
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (heapNext[parent] >= next) break;
      place(at, heapId[parent], heapNext[parent]);
      at = parent;
    }
    place(at, id, next);
  };
  const siftDown = (at) => {
    const id = heapId[at];
    const next = heapNext[at];
    for (;;) {
      const left = 2 * at + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && heapNext[right] > heapNext[left] ? right : left;
      if (heapNext[child] <= next) break;
      place(at, heapId[child], heapNext[child]);
      at = child;
    }
    place(at, id, next);
  };

  for (let i = 0; i < n; i++) {
    const id = ids[i];
    const next = nextUse[i];
    const at = position[id];
    if (at >= 0) {
      hits++;
      heapNext[at] = next; // later than before: moves toward the top of the max-heap
      siftUp(at);
    } else if (next === NEVER) {
      // Never used again: caching it cannot gain a hit.
    } else if (length < size) {
      place(length, id, next);
      siftUp(length++);
    } else if (heapNext[0] > next) {
      // Evict the key needed furthest in the future, which is later than this one.
      position[heapId[0]] = -1;
      place(0, id, next);
      siftDown(0);
    }
  }
  return hits;
}

module.exports = { beladyHits };
