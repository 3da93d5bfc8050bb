/**
 * The CDK tests about changes between deploys, limits, cdk-nag and the emulator (moto_server, see
 * helpers/global-setup), in one module registry; test/cdk-stacks.test.ts says why there are two files.
 */
import './helpers/quiet-reports';
import './stacks/stateful-guard.cases';
import './stacks/deploy-proof.cases';
import './stacks/nag.cases';
import './integration/flag-parameters.cases';
import './integration/traffic-switch-discovery.cases';
