// Jest transform for ES modules in node_modules (Nest 12 and some of its dependencies ship ES modules
// only). Jest runs the suites as CommonJS, and before Node 24.9 it cannot `require()` an ES module,
// so these files are transpiled to CommonJS with TypeScript (already a dev dependency): `import` and
// `export` become `require` and `exports`, and the few `import.meta` uses get their CommonJS
// equivalents. CommonJS files pass through unchanged.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const typeOfFolder = new Map();
/** The `type` of the package.json nearest to a folder ('commonjs' when it has none). */
function packageType(folder) {
  if (typeOfFolder.has(folder)) return typeOfFolder.get(folder);
  let type;
  try {
    type = JSON.parse(fs.readFileSync(path.join(folder, 'package.json'), 'utf8')).type ?? 'commonjs';
  } catch {
    const parent = path.dirname(folder);
    type = parent === folder ? 'commonjs' : packageType(parent);
  }
  typeOfFolder.set(folder, type);
  return type;
}

function isEsModule(filename) {
  if (filename.endsWith('.mjs')) return true;
  if (filename.endsWith('.cjs')) return false;
  return packageType(path.dirname(filename)) === 'module';
}

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  allowJs: true,
  sourceMap: false,
};

// A module's own `const require = createRequire(import.meta.url)` would redeclare the CommonJS
// wrapper's `require` parameter (a SyntaxError); CommonJS has that function already.
const OWN_REQUIRE = /^\s*const require = createRequire\(import\.meta\.url\);?\s*$/m;

function toCommonJs(source, filename) {
  const withoutMeta = source
    .replace(OWN_REQUIRE, '')
    .replace(/\bimport\.meta\.url\b/g, "require('node:url').pathToFileURL(__filename).href")
    .replace(/\bimport\.meta\.resolve\(/g, 'require.resolve(')
    .replace(/\bimport\.meta\.dirname\b/g, '__dirname')
    .replace(/\bimport\.meta\.filename\b/g, '__filename');
  return ts.transpileModule(withoutMeta, { fileName: filename, compilerOptions }).outputText;
}

const ownSource = fs.readFileSync(__filename, 'utf8');

module.exports = {
  process(source, filename) {
    return { code: isEsModule(filename) ? toCommonJs(source, filename) : source };
  },
  getCacheKey(source, filename) {
    return crypto.createHash('sha256').update(ownSource).update(ts.version).update(filename).update(source).digest('hex');
  },
};
