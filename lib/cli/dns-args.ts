/**
 * The `dns` command's words: `dns status`, `dns weight <0-100>`, `dns restore`. Pure; parse-args.ts
 * calls it for the `dns` command, lib/cli/dns.ts runs what it returns.
 */
import { UsageError } from './errors';

export type DnsCommand =
  | { readonly name: 'dns'; readonly action: 'status' }
  | { readonly name: 'dns'; readonly action: 'weight'; readonly percent: number }
  | { readonly name: 'dns'; readonly action: 'restore' }
  | { readonly name: 'dns'; readonly action: 'finish' };

/** The lines of the CLI's usage for the command. */
export const DNS_USAGE = `  dns status                               the clients' DNS name (dns.recordName): its records, the app's share
  dns weight <0-100>                       the app's share of the name's DNS answers (phase 0 onwards; 0 goes back)
  dns restore                              the name's original record alone again
  dns finish                               at 100: the app's load balancer alone (retire the company's)`;

export function parseDns(words: readonly string[]): DnsCommand {
  const [action, ...rest] = words;
  const none = () => {
    if (rest.length > 0)
      throw new UsageError(`dns ${action} takes no further arguments, got ${JSON.stringify(rest[0])}`);
  };
  switch (action) {
    case 'status':
    case 'restore':
    case 'finish':
      none();
      return { name: 'dns', action };
    case 'weight': {
      if (rest.length > 1)
        throw new UsageError(`dns weight takes one number, got also ${JSON.stringify(rest[1])}`);
      const text = rest[0];
      if (text === undefined || !/^\d+$/.test(text) || Number(text) > 100)
        throw new UsageError(
          `dns weight needs the app's share as a whole number from 0 to 100${text === undefined ? '' : `, got ${JSON.stringify(text)}`}`,
        );
      return { name: 'dns', action, percent: Number(text) };
    }
    case undefined:
      throw new UsageError('dns needs an action: status, weight <0-100>, restore or finish');
    default:
      throw new UsageError(
        `unknown dns action ${JSON.stringify(action)}; use status, weight, restore or finish`,
      );
  }
}
