/**
 * Every test that synthesizes the CDK app, in one jest module registry: loading aws-cdk-lib and warming
 * up its first synthesis costs seconds per test file, so these cases share one file and one demo build.
 * The cases live next to what they test; the integration cases use moto_server (see helpers/global-setup).
 */
import './helpers/quiet-reports';
import './stacks/phase0.cases';
import './stacks/phase1.cases';
import './stacks/phase2.cases';
import './stacks/operations.cases';
import './stacks/gateway.cases';
import './stacks/native-rewrite.cases';
import './stacks/snapshots.cases';
import './stacks/stateful-guard.cases';
import './stacks/nag.cases';
import './stacks/proxy.cases';
import './stacks/validation.cases';
import './integration/flag-parameters.cases';
import './stacks/deploy-proof.cases';
import './integration/traffic-switch-discovery.cases';
