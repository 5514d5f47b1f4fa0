/**
 * The HTTP form of a server URL: `ws://host/path?q` → base `http://host/path` and query `?q`
 * (`wss:` → `https:`; an `http(s):` URL is taken as is). The transport's routes hang off the base.
 */
export function httpUrlOf(url: string): { base: string; query: string } {
  const parsed = new URL(url);
  if (parsed.protocol === 'ws:') parsed.protocol = 'http:';
  else if (parsed.protocol === 'wss:') parsed.protocol = 'https:';
  else if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`wirecall: cannot reach ${url} over HTTP`);
  }
  const query = parsed.search;
  parsed.search = '';
  parsed.hash = '';
  return { base: parsed.href.replace(/\/$/, ''), query };
}
