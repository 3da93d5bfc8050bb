/**
 * Who hears about the migration: the alert topic's subscribers.
 */
import { array, str, strict } from './kit';

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export const notifications = strict({
  emails: array(str({ pattern: EMAIL, fix: 'use an e-mail address' }))
    .default([])
    .meta({ description: 'E-mail addresses subscribed to the migration alert topic.' }),
}).prefault({});
