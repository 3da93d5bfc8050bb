/**
 * The shared KrakenD gateway of phase 3: its sizing and backend timeout.
 */
import { sized, sizingRules, sizingShape } from './containers';
import { int, strict } from './kit';

export const gateway = sizingRules(
  strict({
    ...sizingShape,
    timeoutMs: int({ min: 100, max: 60000 })
      .default(3000)
      .meta({ description: 'Backend timeout of every gateway endpoint, in milliseconds.' }),
  }),
  6,
)
  .transform((v) => sized(v, 6))
  .prefault({})
  .meta({
    description: 'The shared KrakenD gateway of phase 3 (its image is the pinned KrakenD CE release).',
  });
