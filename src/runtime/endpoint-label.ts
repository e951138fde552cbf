/**
 * Host and path of an endpoint URL, without scheme, credentials, query or trailing slash: the
 * endpoint half of every runtime id. Bindings are keyed by runtime id, so all runtimes name an
 * endpoint the same way, stably and without secrets.
 */
export function endpointLabel(url: string): string {
  const parsed = new URL(url);
  return `${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
}
