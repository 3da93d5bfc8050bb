/**
 * Jest transformer that binds the built-ins a module uses (`Object`, `Array`, `Map`, ...) as module
 * variables, so that its code reads them from its own scope instead of the global object. jest.config.js
 * runs it over our TypeScript after SWC (`{ swc: true }`), and over the libraries whose code the tests
 * run hot (the CDK's, the AWS SDK's, zod, undici and jose) as they are.
 *
 * Why: jest runs every module in a `vm` context. On Node 20 every global lookup from code in such a
 * context goes through the context's property interceptor, a call into C++. CDK synthesis makes
 * millions of them (token resolution calls `Array.isArray` and `Object.keys` on every value),
 * and a build and synthesis of the demo took 200 ms under jest against 153 ms under plain Node. With
 * the built-ins bound it takes 153 ms under jest too (median of 22 warm runs, alternating; see
 * docs/performance.md). The AWS SDK's code, which the integration tests run, gains 5 %; the flag
 * evaluator's hash loop (`Math.imul`) ran 20x slower under jest than under Node without it.
 *
 * What it changes: nothing a module can observe. Each variable holds the same object the lookup would
 * find (`globalThis.X` of the module's own context, read when the module loads; jest never replaces
 * these built-ins). The line goes after the directive prologue, so a `'use strict'` module stays
 * strict, and on the first line, so line numbers in stack traces do not move. A name the module
 * declares itself with let, const or class is left alone (a `var` beside it would not parse). A module
 * that assigned to a built-in (`Map = ...`, a polyfill) would assign its own variable instead: none of
 * these libraries does (checked with grep over their files when this was written), nor does our code.
 */
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');

const BUILT_INS = [
  'Object',
  'Array',
  'JSON',
  'Math',
  'Symbol',
  'String',
  'Number',
  'Boolean',
  'Error',
  'TypeError',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'Promise',
  'Reflect',
  'RegExp',
];
// Not `Date`: jest's fake timers replace the global Date, and a module holding its own would not see it.

// A leading shebang, comments and directives ('use strict'): the line goes after them.
const PROLOGUE = /^(?:#![^\n]*\n)?(?:\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|(['"])use strict\1;?)*/;

function bindGlobals(source) {
  const names = BUILT_INS.filter(
    (name) =>
      new RegExp(`\\b${name}\\b`).test(source) &&
      !new RegExp(`\\b(?:let|const|class)\\s+${name}\\b`).test(source),
  );
  if (names.length === 0) return source;
  const prologue = PROLOGUE.exec(source)[0];
  const line = `var ${names.map((name) => `${name} = globalThis.${name}`).join(', ')};`;
  return prologue + line + source.slice(prologue.length);
}

const SELF = createHash('sha256').update(readFileSync(__filename)).digest('hex');

/** `config.swc`: run SWC first (`true`, or SWC's options), for TypeScript. */
function createTransformer(config = {}) {
  const swc = config.swc
    ? require('@swc/jest').createTransformer(config.swc === true ? undefined : config.swc)
    : undefined;
  return {
    process(source, path, options) {
      if (!swc) return { code: bindGlobals(source) };
      const out = swc.process(source, path, options);
      return { ...out, code: bindGlobals(out.code) };
    },
    getCacheKey(source, path, options) {
      const hash = createHash('sha256').update(SELF).update(path).update(source);
      if (swc) hash.update(swc.getCacheKey(source, path, options));
      return hash.digest('hex');
    },
  };
}

module.exports = { bindGlobals, createTransformer };
