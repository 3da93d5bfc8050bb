import { Stack, CfnResource } from 'aws-cdk-lib';
const { testApp } = require('/work/main/test/helpers/test-app');
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  const app = testApp({ validate: true });
  new CfnResource(new Stack(app, 'P'), 'Q', { type: 'AWS::SNS::Topic', properties: {} });
  app.synth();
  console.log('tiny validated synth ms', (performance.now() - t).toFixed(0));
}
