import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';

/** Publishes an alert to the migration topic (e-mail and other subscriptions come from the config). */
export class Alerts {
  constructor(
    private readonly topicArn: string,
    private readonly sns: SNSClient,
  ) {}

  async publish(subject: string, details: Record<string, unknown>): Promise<void> {
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        // SNS subjects: at most 100 ASCII characters.
        Subject: subject.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
        Message: JSON.stringify({ subject, ...details }, null, 2),
      }),
    );
  }
}
