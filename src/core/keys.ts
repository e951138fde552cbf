/** Session ids, namespaces and idempotency keys: one alphabet, never rewritten, safe in any store's keys. */
export const KEY_PATTERN = /^[A-Za-z0-9._:@-]{1,256}$/;
export const KEY_RULE = '1-256 characters from [A-Za-z0-9._:@-]';
