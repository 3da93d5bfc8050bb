import { Stack, CfnResource } from 'aws-cdk-lib';
const { testApp } = require('/work/main/test/helpers/test-app');
const { Session } = require('node:inspector');
const s = new Session(); s.connect();
const app0 = testApp({}); new Stack(app0, 'W'); app0.synth();
s.post('Profiler.enable', () => s.post('Profiler.start', () => {
  const t = performance.now();
  const app = testApp({ validate: true });
  new CfnResource(new Stack(app, 'P'), 'Q', { type: 'AWS::SNS::Topic', properties: {} });
  app.synth();
  console.log('tiny validated synth ms', (performance.now() - t).toFixed(0));
  s.post('Profiler.stop', (_e: unknown, { profile }: any) => { require('fs').writeFileSync('/tmp/val.cpuprofile', JSON.stringify(profile)); });
}));
