/** The console's API from the browser: every request carries the page's CSRF token. */
const csrf = document.querySelector<HTMLMetaElement>('meta[name="tpa-csrf"]')?.content ?? '';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super((body as { error?: string } | null)?.error ?? `HTTP ${status}`);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: { 'X-TPA-CSRF': csrf, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const data: unknown = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data);
  return data as T;
}

/** A URL for what the browser fetches itself (an EventSource, a download link). */
export const withCsrf = (path: string) =>
  `${path}${path.includes('?') ? '&' : '?'}csrf=${encodeURIComponent(csrf)}`;

export const money = (usd: number, currency = 'USD') =>
  `${currency === 'USD' ? '$' : ''}${usd.toFixed(2)}${currency === 'USD' ? '' : ` ${currency}`}`;

export const enc = encodeURIComponent;
