/**
 * flag-parameter: the CloudFormation custom resource provider of the runtime-owned parameters (flags and
 * live ALB values). Create: PutParameter with Overwrite false, tagged with the stack's identity, and for
 * a flag the created version labelled `last-good` (so a fresh environment is readable at once); a name
 * already taken is adopted only when that is safe (see decide.ts). Update: tags only (the value is never
 * written again). Delete: nothing, the parameter and its history stay. Thin: decisions in decide.ts.
 */
import {
  AddTagsToResourceCommand,
  GetParameterHistoryCommand,
  LabelParameterVersionCommand,
  ListTagsForResourceCommand,
  type ParameterHistory,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { LAST_GOOD_LABEL } from '../../lib/flags/parameters';
import { type ProviderResult, serveProvider } from '../shared/custom-resource';
import { jsonLogger, type Logger } from '../shared/log';
import { IDENTITY_TAG, onExisting, onRename, onUpdate, type ParameterProperties } from './decide';

export interface ProviderDependencies {
  readonly ssm: SSMClient;
  readonly logger: Logger;
}

export async function provide(
  event: CloudFormationCustomResourceEvent,
  deps: ProviderDependencies,
): Promise<ProviderResult> {
  const props = event.ResourceProperties as unknown as ParameterProperties & { ServiceToken: string };
  const tags = [...props.Tags, { Key: IDENTITY_TAG, Value: props.Identity }];
  switch (event.RequestType) {
    case 'Create': {
      try {
        const out = await deps.ssm.send(
          new PutParameterCommand({
            Name: props.Name,
            Value: props.Value,
            Type: 'String',
            Tier: props.Tier,
            Description: props.Description,
            Overwrite: false,
            Tags: tags,
          }),
        );
        if (props.Label === 'true')
          await deps.ssm.send(
            new LabelParameterVersionCommand({
              Name: props.Name,
              ParameterVersion: out.Version,
              Labels: [LAST_GOOD_LABEL],
            }),
          );
        return { status: 'SUCCESS', reason: `created ${props.Name} version ${out.Version}` };
      } catch (e) {
        if ((e as Error).name !== 'ParameterAlreadyExists') throw e;
      }
      const versions = await historyOf(deps, props.Name);
      const existingTags = await deps.ssm.send(
        new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: props.Name }),
      );
      const decision = onExisting(props, {
        versions: versions.map((v) => ({ value: v.Value ?? '', labels: v.Labels ?? [] })),
        tags: Object.fromEntries((existingTags.TagList ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
      });
      if (decision.action === 'fail') return { status: 'FAILED', reason: decision.reason };
      if (decision.retag) await retag(deps, props.Name, tags);
      if (decision.label && versions[0]?.Version !== undefined)
        await deps.ssm.send(
          new LabelParameterVersionCommand({
            Name: props.Name,
            ParameterVersion: versions[0].Version,
            Labels: [LAST_GOOD_LABEL],
          }),
        );
      deps.logger.log('warn', 'adopted an existing parameter with its value', {
        name: props.Name,
        why: decision.why,
      });
      return { status: 'SUCCESS', reason: `adopted ${props.Name}: ${decision.why}` };
    }
    case 'Update': {
      const renamed = onRename(event.PhysicalResourceId, props);
      if (renamed) return { status: 'FAILED', reason: renamed };
      const versions = await historyOf(deps, props.Name);
      const { fail } = onUpdate(props, versions[versions.length - 1]?.Tier);
      if (fail) return { status: 'FAILED', reason: fail };
      // The identity tag keeps the build that created the parameter; other tags follow the template.
      await retag(deps, props.Name, props.Tags);
      return { status: 'SUCCESS', reason: `re-tagged ${props.Name}; its value is the running system's` };
    }
    case 'Delete':
      return { status: 'SUCCESS', reason: `left ${props.Name} and its history in place` };
  }
}

/** Every stored version (SSM keeps 100; a page holds at most 50), oldest first. */
async function historyOf(deps: ProviderDependencies, name: string): Promise<ParameterHistory[]> {
  const versions: ParameterHistory[] = [];
  let NextToken: string | undefined;
  do {
    const page = await deps.ssm.send(
      new GetParameterHistoryCommand({ Name: name, MaxResults: 50, NextToken }),
    );
    versions.push(...(page.Parameters ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return versions.sort((a, b) => (a.Version ?? 0) - (b.Version ?? 0));
}

async function retag(
  deps: ProviderDependencies,
  name: string,
  tags: ParameterProperties['Tags'],
): Promise<void> {
  await deps.ssm.send(
    new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: name, Tags: [...tags] }),
  );
}

let dependencies: ProviderDependencies | undefined;

/** The custom resource protocol: the result goes to CloudFormation's pre-signed URL, even on an error. */
export async function handler(event: CloudFormationCustomResourceEvent): Promise<void> {
  dependencies ??= { ssm: new SSMClient({}), logger: jsonLogger('flag-parameter') };
  const deps = dependencies;
  // The parameter's name, once created: an update or delete keeps it (a renamed update is refused).
  const name =
    event.RequestType === 'Create'
      ? ((event.ResourceProperties as { Name?: string }).Name ?? event.LogicalResourceId)
      : event.PhysicalResourceId;
  await serveProvider(event, deps.logger, () => provide(event, deps), name);
}
