/**
 * The AWS regions this release knows, to catch a mistyped region in one line (with the closest known
 * one) instead of a synth that fails later on placeholder ids. A region AWS opens after this release is
 * let through with `"newRegion": true`. test/config/regions.test.ts keeps the list equal to the CDK's
 * own region table (aws-cdk-lib/region-info), which this layer does not load.
 */

/** A region code: `eu-west-1`, `us-gov-west-1`, `us-isob-east-1`. */
export const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

export const KNOWN_REGIONS: readonly string[] = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'cn-north-1',
  'cn-northwest-1',
  'eu-central-1',
  'eu-central-2',
  'eu-isoe-west-1',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'me-west-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-gov-east-1',
  'us-gov-west-1',
  'us-iso-east-1',
  'us-iso-west-1',
  'us-isob-east-1',
  'us-isob-west-1',
  'us-isof-east-1',
  'us-isof-south-1',
  'us-west-1',
  'us-west-2',
];

/** Edit distance (insertions, deletions, substitutions, and swaps of neighbours). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known regions closest to a mistyped one (within two edits; at most three), closest first. */
export function closestRegions(region: string): string[] {
  const ranked = KNOWN_REGIONS.map((r) => ({ r, d: distance(region, r) })).filter((x) => x.d <= 2);
  const best = Math.min(...ranked.map((x) => x.d));
  return ranked
    .filter((x) => x.d === best)
    .map((x) => x.r)
    .slice(0, 3);
}

/** The region of an ARN (`arn:aws:acm:eu-west-1:...` gives `eu-west-1`). */
export function arnRegion(arn: string): string {
  return arn.split(':')[3] ?? '';
}
