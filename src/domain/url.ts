/** Why a server URL cannot be used, or null: it must parse and be http or https. Apart from ./config.ts (zod) so the CLI's option parsing can use it without loading the schemas. */
export function urlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url}" is not a URL (e.g. http://127.0.0.1:8000/v1)`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `"${url}" is not an http(s) URL (start it with http:// or https://)`;
  return null;
}
