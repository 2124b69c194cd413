// The subset of PromQL the dashboard's panels use, evaluated over a series of scrapes, so that the
// rendered picture is drawn from the same expressions Grafana would run:
//   selector{label="v",label=~"re"}, rate(selector[N]), sum(expr), sum by (labels) (expr),
//   histogram_quantile(q, expr), and + - * / between vectors with identical label sets.
// Not a general PromQL engine: anything else is a parse error, loudly.
'use strict';

function tokenize(text) {
  const tokens = [];
  const re = /\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_:][A-Za-z0-9_:]*)|("(?:[^"\\]|\\.)*")|(=~|[(){}[\],=+\-*/]))/y;
  let m;
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) {
    if (m[1] !== undefined) tokens.push({ t: 'num', v: Number(m[1]) });
    else if (m[2] !== undefined) tokens.push({ t: 'id', v: m[2] });
    else if (m[3] !== undefined) tokens.push({ t: 'str', v: JSON.parse(m[3]) });
    else tokens.push({ t: 'op', v: m[4] });
  }
  if (text.slice(re.lastIndex).trim() !== '') throw new Error(`cannot tokenize: ${text.slice(re.lastIndex)}`);
  return tokens;
}

function parse(text) {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const eat = (v) => {
    const tok = tokens[i++];
    if (v !== undefined && (tok === undefined || tok.v !== v)) throw new Error(`expected ${v} at token ${i} in ${text}`);
    return tok;
  };
  function expr() {
    let left = term();
    while (peek() && (peek().v === '+' || peek().v === '-')) left = { k: 'bin', op: eat().v, left, right: term() };
    return left;
  }
  function term() {
    let left = factor();
    while (peek() && (peek().v === '*' || peek().v === '/')) left = { k: 'bin', op: eat().v, left, right: factor() };
    return left;
  }
  function factor() {
    const tok = peek();
    if (tok.v === '(') {
      eat('(');
      const e = expr();
      eat(')');
      return e;
    }
    if (tok.t === 'num') return { k: 'num', v: eat().v };
    if (tok.v === 'sum') {
      eat();
      let by = null;
      if (peek().v === 'by') {
        eat();
        eat('(');
        by = [];
        while (peek().v !== ')') {
          by.push(eat().v);
          if (peek().v === ',') eat(',');
        }
        eat(')');
      }
      eat('(');
      const e = expr();
      eat(')');
      return { k: 'sum', by, e };
    }
    if (tok.v === 'rate') {
      eat();
      eat('(');
      const s = selector();
      eat('[');
      const window = eat().v;
      eat(']');
      eat(')');
      return { k: 'rate', s, window };
    }
    if (tok.v === 'histogram_quantile') {
      eat();
      eat('(');
      const q = eat().v;
      eat(',');
      const e = expr();
      eat(')');
      return { k: 'hq', q, e };
    }
    return selector();
  }
  function selector() {
    const name = eat().v;
    const matchers = [];
    if (peek() && peek().v === '{') {
      eat('{');
      while (peek().v !== '}') {
        const label = eat().v;
        const op = eat().v;
        const value = eat().v;
        matchers.push({ label, op, value });
        if (peek().v === ',') eat(',');
      }
      eat('}');
    }
    return { k: 'sel', name, matchers };
  }
  const tree = expr();
  if (i !== tokens.length) throw new Error(`unparsed tail in ${text}`);
  return tree;
}

const keyOf = (labels) => JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));

/**
 * Evaluates `text` at scrape index `at` of `scrapes` ([{ time (s), samples: [{name, labels, value}] }]).
 * `windowSteps` replaces the range of rate() (the picture's $__rate_interval). Returns [{ labels, value }].
 */
function evaluate(text, scrapes, at, windowSteps) {
  const select = (sel, index) => scrapes[index].samples.filter((s) => s.name === sel.name && sel.matchers.every((m) => (
    m.op === '=' ? s.labels[m.label] === m.value : new RegExp(`^(?:${m.value})$`).test(s.labels[m.label] ?? ''))));
  const run = (node) => {
    switch (node.k) {
      case 'num': return [{ labels: {}, value: node.v }];
      case 'sel': return select(node, at).map((s) => ({ labels: s.labels, value: s.value }));
      case 'rate': {
        const from = Math.max(0, at - windowSteps);
        if (from === at) return [];
        const before = new Map(select(node.s, from).map((s) => [keyOf(s.labels), s.value]));
        const dt = scrapes[at].time - scrapes[from].time;
        return select(node.s, at).map((s) => ({ labels: s.labels, value: Math.max(0, s.value - (before.get(keyOf(s.labels)) ?? 0)) / dt }));
      }
      case 'sum': {
        const groups = new Map();
        for (const v of run(node.e)) {
          const labels = node.by === null ? {} : Object.fromEntries(node.by.filter((l) => l in v.labels).map((l) => [l, v.labels[l]]));
          const k = keyOf(labels);
          const g = groups.get(k) ?? { labels, value: 0 };
          g.value += v.value;
          groups.set(k, g);
        }
        return [...groups.values()];
      }
      case 'bin': {
        const right = new Map(run(node.right).map((v) => [keyOf(v.labels), v.value]));
        const out = [];
        for (const l of run(node.left)) {
          const r = right.get(keyOf(l.labels));
          if (r === undefined) continue;
          const value = node.op === '+' ? l.value + r : node.op === '-' ? l.value - r : node.op === '*' ? l.value * r : l.value / r;
          if (Number.isFinite(value)) out.push({ labels: l.labels, value });
        }
        return out;
      }
      case 'hq': {
        const groups = new Map();
        for (const v of run(node.e)) {
          const { le, ...rest } = v.labels;
          const k = keyOf(rest);
          const g = groups.get(k) ?? { labels: rest, buckets: [] };
          g.buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: v.value });
          groups.set(k, g);
        }
        const out = [];
        for (const g of groups.values()) {
          const value = quantile(node.q, g.buckets.sort((a, b) => a.le - b.le));
          if (Number.isFinite(value)) out.push({ labels: g.labels, value });
        }
        return out;
      }
      default: throw new Error(`unknown node ${node.k}`);
    }
  };
  return run(parse(text));
}

/** Prometheus' histogram_quantile: linear interpolation inside the bucket that holds the rank. */
function quantile(q, buckets) {
  const total = buckets.length === 0 ? 0 : buckets[buckets.length - 1].count;
  if (total === 0) return NaN;
  const rank = q * total;
  let i = buckets.findIndex((b) => b.count >= rank);
  if (buckets[i].le === Infinity) return buckets.length > 1 ? buckets[buckets.length - 2].le : NaN;
  const lower = i === 0 ? 0 : buckets[i - 1].le;
  const below = i === 0 ? 0 : buckets[i - 1].count;
  const inBucket = buckets[i].count - below;
  return inBucket === 0 ? buckets[i].le : lower + (buckets[i].le - lower) * ((rank - below) / inBucket);
}

module.exports = { parse, evaluate, quantile };
