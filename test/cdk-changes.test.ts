/**
 * The CDK tests about changes between deploys, limits, cdk-nag, the emulator (moto_server, see
 * helpers/global-setup) and the integ tests' snapshots, in one module registry; test/cdk-stacks.test.ts says why there are two files.
 */
import './helpers/quiet-reports';
import './stacks/stateful-guard.cases';
import './stacks/deploy-proof.cases';
import './stacks/limits.cases';
import './stacks/upgrade.cases';
import './stacks/legacy-db-clients-upgrade.cases';
import './stacks/nag.cases';
import './integ/snapshots.cases';
import './integration/flag-parameters.cases';
import './integration/traffic-switch-discovery.cases';
import './integration/verified-cutover.cases';
