/**
 * The jest transformer that binds the built-ins of the libraries the tests run hot (bind-globals.js): what
 * it writes, and that a transformed module behaves as before.
 */
import { runInNewContext } from 'node:vm';

const { bindGlobals } = require('./bind-globals') as { bindGlobals: (source: string) => string };

/** Runs a CommonJS source as jest does (in a vm context, wrapped in a function) and returns its exports. */
function load(source: string) {
  const module = { exports: {} as Record<string, unknown> };
  const wrapper = runInNewContext(`(function (module, exports) {${source}\n})`, {});
  wrapper(module, module.exports);
  return module.exports;
}

describe('bindGlobals (jest transform of the libraries the tests run hot)', () => {
  it('binds the built-ins the module names, from its own global object, and no others', () => {
    const out = bindGlobals('exports.keys = (o) => Object.keys(o); exports.isList = Array.isArray;');
    expect(out.startsWith('var Object = globalThis.Object, Array = globalThis.Array;')).toBe(true);
    const loaded = load(`${out}\nexports.sameObject = Object === globalThis.Object;`);
    expect(loaded.sameObject).toBe(true);
    expect((loaded.keys as (o: object) => string[])({ a: 1 })).toEqual(['a']);
  });

  it("keeps a 'use strict' module strict: the line goes after the directive", () => {
    const source = `/* license */\n'use strict';\nexports.thisInFunction = (function () { return this; })();\nexports.o = Object;`;
    const out = bindGlobals(source);
    expect(out).toBe(
      `/* license */\n'use strict';\nvar Object = globalThis.Object;exports.thisInFunction = (function () { return this; })();\nexports.o = Object;`,
    );
    // Sloppy mode would give the global object here.
    expect(load(out).thisInFunction).toBeUndefined();
  });

  it('keeps the line numbers: nothing is added on a line of its own', () => {
    const source = '"use strict";\nconst a = Object.keys({});\nexports.line = new Error().stack;';
    expect(bindGlobals(source).split('\n')).toHaveLength(source.split('\n').length);
  });

  it('leaves alone a name the module declares with let, const or class (a var beside it would not parse)', () => {
    const source = 'class Map {}\nexports.m = new Map(); exports.s = new Set();';
    const out = bindGlobals(source);
    expect(out.startsWith('var Set = globalThis.Set;')).toBe(true);
    expect(() => load(out)).not.toThrow();
  });

  it('is what jest.config.js applies to those libraries, and to no other package', () => {
    const { transform, transformIgnorePatterns } = require('../../jest.config.js') as {
      transform: Record<string, unknown>;
      transformIgnorePatterns: string[];
    };
    const transformerOf = (path: string) =>
      transformIgnorePatterns.some((p) => new RegExp(p).test(path))
        ? undefined
        : Object.entries(transform).find(([pattern]) => new RegExp(pattern).test(path))?.[1];
    const modules = `${__dirname}/../../node_modules`;
    for (const library of [
      'aws-cdk-lib/core/lib/stack.js',
      'constructs/lib/construct.js',
      'cdk-nag/lib/index.js',
      '@aws-sdk/client-ssm/dist-cjs/index.js',
      '@smithy/core/dist-cjs/index.js',
      'zod/v4/classic/schemas.cjs',
    ])
      expect(transformerOf(`${modules}/${library}`)).toBe('<rootDir>/test/helpers/bind-globals.js');
    // Our TypeScript goes through it after SWC.
    expect(transformerOf(`${__dirname}/../../lib/flags/evaluate.ts`)).toEqual([
      '<rootDir>/test/helpers/bind-globals.js',
      { swc: true },
    ]);
    // Another package, and a package inside one of theirs (aws-cdk-lib bundles its own dependencies).
    for (const other of [
      'esbuild/lib/main.js',
      'aws-cdk-lib/node_modules/@aws/cloudformation-validate/index.js',
    ])
      expect(transformerOf(`${modules}/${other}`)).toBeUndefined();
  });

  it('returns a module that names no built-in unchanged', () => {
    expect(bindGlobals('exports.x = 1;')).toBe('exports.x = 1;');
  });
});
