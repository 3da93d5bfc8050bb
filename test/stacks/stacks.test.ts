/**
 * Every CDK stack test, in one jest module registry: loading aws-cdk-lib and warming up its first
 * synthesis costs seconds per test file, so the stack tests share one file and one demo build.
 */
import './phase0.cases';
import './phase1.cases';
import './operations.cases';
import './snapshots.cases';
import './phase2.cases';
import './gateway.cases';
import './stateful-guard.cases';
import './nag.cases';
