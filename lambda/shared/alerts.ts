import type { SNSClient } from '@aws-sdk/client-sns';
import type { Lazy } from './lazy';

/** Publishes an alert to the migration topic (e-mail and other subscriptions come from the config). */
export class Alerts {
  constructor(
    private readonly topicArn: string,
    /** Made on the first alert: most invocations of a hook publish none. */
    private readonly sns: Lazy<SNSClient>,
  ) {}

  async publish(subject: string, details: Record<string, unknown>): Promise<void> {
    const [{ PublishCommand }, sns] = await Promise.all([import('./aws-sns'), this.sns()]);
    await sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        // SNS subjects: at most 100 ASCII characters.
        Subject: subject.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
        Message: JSON.stringify({ subject, ...details }, null, 2),
      }),
    );
  }
}
