#!/usr/bin/env node
// `npx migrate <command>` in this project (or after `npm install` of it): the TypeScript CLI through tsx.
require('tsx/cjs');
require('./migrate.ts');
