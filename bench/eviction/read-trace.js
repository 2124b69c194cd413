// Reads a trace: gzip text, one key per line (see ../shared/traces/README.md). Keys stay strings.
'use strict';
const { readFileSync } = require('node:fs');
const { gunzipSync } = require('node:zlib');

/**
 * Returns `{ ids, keys }`: `ids[i]` is the id of the i-th access's key, `keys[id]` the key itself
 * (one string object per distinct key, so that every policy hashes the same interned strings).
 * Blank lines and a trailing newline are skipped; a line is taken verbatim (minus a '\r').
 */
function readTrace(file) {
  const text = gunzipSync(readFileSync(file)).toString('latin1');
  const idOf = new Map();
  const keys = [];
  let ids = new Int32Array(1 << 20);
  let n = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length === 0) continue;
    let id = idOf.get(line);
    if (id === undefined) {
      id = keys.length;
      idOf.set(line, id);
      keys.push(line);
    }
    if (n === ids.length) {
      const bigger = new Int32Array(ids.length * 2);
      bigger.set(ids);
      ids = bigger;
    }
    ids[n++] = id;
  }
  if (n === 0) throw new Error(`${file}: no accesses (expected one key per line)`);
  return { ids: ids.subarray(0, n), keys };
}

module.exports = { readTrace };
