#!/usr/bin/env node
/**
 * The one place that picks the environment: `-c config=envs/prod.json`, or the embedded `demo`.
 * An invalid configuration prints every problem and exits non-zero before anything is synthesized.
 */
import { App } from 'aws-cdk-lib';
import { addNagChecks, buildMigrationApp } from '../lib/app';
import { selectConfig } from '../lib/config/load';
import { ConfigError } from '../lib/config/parse-config';

const app = new App();
try {
  const config = selectConfig(app.node.tryGetContext('config'));
  buildMigrationApp(app, config);
  addNagChecks(app);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(e.message);
  process.exit(1);
}
