#!/usr/bin/env node
/**
 * The one place that picks the environment: `-c config=envs/prod.json`, or the embedded `demo`.
 * An invalid configuration prints every problem, removes the templates of an earlier synthesis from the
 * output folder (none may look current) and exits non-zero before anything is synthesized.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../lib/config/parse';
import { selectConfig } from '../lib/environment/load';

const app = new App();
try {
  const config = selectConfig(app.node.tryGetContext('config'));
  // Loaded once the configuration is valid: an invalid one is reported without loading every construct
  // library of the app (0.4 s).
  const { addNagChecks, buildMigrationApp } = require('../lib/app') as typeof import('../lib/app');
  buildMigrationApp(app, config);
  addNagChecks(app);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(e.message);
  // Nothing in the output folder may look like the synthesis of this configuration.
  for (const file of existsSync(app.outdir) ? readdirSync(app.outdir) : [])
    if (/\.template\.json$|^manifest\.json$|^tree\.json$|\.assets\.json$/.test(file))
      rmSync(join(app.outdir, file));
  process.exit(1);
}
