#!/usr/bin/env node
// `npx migrate <command>` in this project (or after `npm install` of it): the TypeScript CLI through tsx.
// Both of tsx's hooks: require() of the CLI, and import() of TypeScript, with which the CLI loads a
// command's code (tsx/cjs alone leaves `import('./run')` to Node, which cannot find a .ts file).
const { register } = require('node:module');
const { pathToFileURL } = require('node:url');
// (tsx/esm/api's own register() resolves its hooks from a wrong folder in this release.)
register('tsx/esm', { parentURL: pathToFileURL(__filename), data: {} });
require('tsx/cjs');
require('./migrate.ts');
