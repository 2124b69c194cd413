// Adaptation speed on the phase-change traces: after each phase change, how many accesses until the
// policy's hit ratio is within 5 points of the best reference policy's for that phase.
'use strict';
const { replayTrace } = require('./policies');
const { phaseChangeTrace } = require('./phase-change');

/** Target: within this many points of the best reference... */
const TOLERANCE = 0.05;
/** ...after at most this many × cache size accesses into the phase. */
const DEADLINE = 10;

const ratio = (prefix, from, to) => (to > from ? (prefix[to] - prefix[from]) / (to - from) : 0);

function prefixSums(hitAt) {
  const prefix = new Float64Array(hitAt.length + 1);
  for (let i = 0; i < hitAt.length; i++) prefix[i + 1] = prefix[i] + hitAt[i];
  return prefix;
}

/**
 * Replays `name` at `size` through `subject` and every reference policy. Per phase: the hit ratio of
 * each over its first DEADLINE × size accesses and from there to its end, and the subject's settling
 * time: the least k (in units of size) such that from k × size to the phase's end, its hit ratio is within
 * TOLERANCE of the best reference's over the same accesses.
 */
function measureAdaptation(name, size, subject, references) {
  const trace = phaseChangeTrace(name, size);
  const runs = Object.fromEntries([['subject', subject], ...Object.entries(references)].map(([label, policy]) => [label, prefixSums(replayTrace(policy, trace.keys, trace.ids, size, true).hitAt)]));
  const labels = Object.keys(references);
  return trace.phases.map((phase, index) => {
    const best = (from) => Math.max(...labels.map((l) => ratio(runs[l], from, phase.end)));
    const steps = Math.floor((phase.end - phase.start) / size);
    let settle = null;
    for (let k = 0; k < steps && settle === null; k++) {
      const from = phase.start + k * size;
      if (ratio(runs.subject, from, phase.end) >= best(from) - TOLERANCE) settle = k;
    }
    const from = Math.min(phase.end - 1, phase.start + DEADLINE * size);
    const after = Object.fromEntries(Object.keys(runs).map((l) => [l, ratio(runs[l], from, phase.end)]));
    const before = Object.fromEntries(Object.keys(runs).map((l) => [l, ratio(runs[l], phase.start, from)]));
    return { trace: name, size, phase: `${index + 1}. ${phase.name}`, accesses: phase.end - phase.start, settleInCacheSizes: index === 0 ? null : settle, beforeDeadline: before, afterDeadline: after, bestReference: best(from) };
  });
}

module.exports = { measureAdaptation, TOLERANCE, DEADLINE };
