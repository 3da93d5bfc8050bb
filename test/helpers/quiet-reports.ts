/**
 * Keeps the test output readable: the CDK prints its validation report with console.error on every
 * synthesis, and the demo (on purpose) carries one warning, that a service reads the legacy database
 * with its master secret, and writes back with it (and the variants' extra services, routes without
 * identities). A report made
 * only of such expected warnings is not printed; any other
 * report, and any other console.error, is printed as usual. Nothing is hidden from the assertions:
 * tests that check warnings read the annotations or the report file, not the console.
 */
const EXPECTED_WARNINGS: readonly RegExp[] = [
  /^\S+ reads the legacy database with its master secret; /,
  /^\S+ writes back to the legacy database with its MASTER secret: /,
  // Variants that test other things than the data side run without a write-back.
  /^\S+ has no write-back \(services\[\]\.writeBack\): /,
  // The test variants' extra services (orders, svcN) route without identities: they test other things.
  /^\S+: services\[\d+\]\.routes\[\d+\] .* no identity, so with routing "users" or "percent" /,
  /^\S+'s routes find the user in \d+ places /,
];

const original = console.error.bind(console);

/** Whether a console message is a CDK validation report of expected warnings only. */
export function isExpectedReport(message: string): boolean {
  if (!/A copy of this report can be found in: /.test(message)) return false;
  const findings = message.split('\n').filter((line) => /^\s*(ERROR|WARNING|FATAL)\b/.test(line));
  return (
    findings.length > 0 &&
    findings.every((line) => {
      const m = /^\s*WARNING (.*)$/.exec(line);
      return m !== null && EXPECTED_WARNINGS.some((re) => re.test(m[1]));
    })
  );
}

console.error = (...args: unknown[]) => {
  if (args.length === 1 && typeof args[0] === 'string' && isExpectedReport(args[0])) return;
  original(...args);
};
