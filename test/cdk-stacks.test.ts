/**
 * The tests that synthesize the CDK app share a jest module registry per file: loading aws-cdk-lib and
 * warming up its first synthesis costs seconds per file. Two files (this one: what each phase and mode
 * builds; test/cdk-changes.test.ts: changes between deploys, limits and the emulator) let jest's two
 * workers run them side by side. The cases live next to what they test.
 */
import './helpers/quiet-reports';
import './stacks/phase0.cases';
import './stacks/phase1.cases';
import './stacks/phase2.cases';
import './stacks/operations.cases';
import './stacks/gateway.cases';
import './stacks/composites.cases';
import './stacks/native-rewrite.cases';
import './stacks/proxy.cases';
import './stacks/imported-vpc.cases';
import './stacks/external-monolith.cases';
import './stacks/dns.cases';
import './stacks/validation.cases';
import './stacks/snapshots.cases';
