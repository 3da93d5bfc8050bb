/**
 * The company's domain: the Route 53 hosted zone, the name clients call today (which the operator CLI
 * moves onto the app's load balancer in weighted steps), and an optional alias record for the app's load
 * balancer that the platform stack creates.
 */
import { intact, problem, str, strict } from './kit';

const ZONE_ID = /^[A-Z0-9]{1,32}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

const within = (name: string, zone: string) => name === zone || name.endsWith(`.${zone}`);

export const dns = strict({
  hostedZoneId: str({
    pattern: ZONE_ID,
    fix: 'use the id of the public hosted zone, e.g. "Z0123456789ABCDEFGHIJ"',
  }).meta({ description: 'The Route 53 hosted zone of the domain.' }),
  zoneName: str({
    pattern: DOMAIN,
    fix: 'use the domain of the hosted zone in lowercase, e.g. "example.com"',
  }).meta({
    description: 'The domain of the hosted zone, e.g. "example.com".',
  }),
  recordName: str({
    pattern: DOMAIN,
    fix: 'use the name clients call today in lowercase, e.g. "www.example.com"',
  })
    .optional()
    .meta({
      description:
        'The name clients call today (a simple A or CNAME record pointing at the monolith): `npx migrate dns` moves it onto the app in weighted steps, and back. The platform stack grants the DNS operator policy on it.',
    }),
  aliasName: str({ pattern: DOMAIN, fix: 'use a name of the zone in lowercase, e.g. "app.example.com"' })
    .optional()
    .meta({
      description:
        "An alias record the platform stack creates for the app's load balancer (e.g. to test it under a real name and certificate before moving traffic). Never recordName.",
    }),
})
  .superRefine(
    (v, ctx) => {
      for (const key of ['recordName', 'aliasName'] as const) {
        const name = v[key];
        if (name !== undefined && !within(name, v.zoneName))
          problem(
            ctx,
            [key],
            `${JSON.stringify(name)} is not in the zone ${v.zoneName}; use a name that ends in .${v.zoneName}`,
          );
      }
      if (v.aliasName !== undefined && v.aliasName === v.recordName)
        problem(
          ctx,
          ['aliasName'],
          'is recordName: a record in the template would take the name from the monolith in one deploy, and the next deploy would reset the steps; use another name (recordName moves with npx migrate dns)',
        );
    },
    intact('zoneName', 'recordName', 'aliasName'),
  )
  .optional()
  .meta({
    description:
      'The company\'s domain in Route 53: the name to move onto the app (docs/runbook.md, "Moving production traffic onto the app") and an optional alias for the app\'s load balancer.',
  });
