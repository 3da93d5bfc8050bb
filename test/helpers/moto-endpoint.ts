/**
 * Where the emulator (moto_server, started by the jest global setup) is and how an SDK client reaches
 * it. Light on purpose: test/helpers/moto.ts adds what needs the CDK test app; the proxy tests import
 * only this.
 */
export const REGION = 'eu-west-1';
export const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export function motoEndpoint(): string {
  const url = process.env.MOTO_ENDPOINT;
  if (!url)
    throw new Error('MOTO_ENDPOINT is not set: run the tests through jest (global setup starts moto_server)');
  return url;
}

/** What an SDK client needs to talk to the emulator. maxAttempts 1: a retried 500 would hide the real error. */
export function motoClientConfig() {
  return { region: REGION, endpoint: motoEndpoint(), credentials: CREDENTIALS, maxAttempts: 1 };
}
