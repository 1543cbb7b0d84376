/**
 * Who may use the console, and what every response says about itself. Like Jupyter: a random
 * token made at start is printed in the URL; the first page load with it sets an HttpOnly,
 * SameSite=Strict cookie and redirects to the URL without it. Every request needs the cookie;
 * API requests also need the CSRF token (a header, which a cross-site form cannot send, or a
 * query parameter for the read-only EventSource and download GETs), and a state-changing one
 * with an Origin must come from the console's own. Everything else is 401.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

export const COOKIE = 'tpa_ui';
export const CSRF_HEADER = 'x-tpa-csrf';

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

export interface Tokens {
  /** in the printed URL and the cookie */
  access: string;
  /** in the page (a meta tag), sent back by the browser code on every API request */
  csrf: string;
}

export function makeTokens(access = randomBytes(24).toString('base64url')): Tokens {
  return { access, csrf: createHmac('sha256', access).update('csrf').digest('base64url') };
}

function same(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Sets the security headers on whatever the handlers answered, errors and 401s included. */
export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
};

const unauthorized = (message: string) =>
  new Response(`${message}\n`, { status: 401, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });

/** `hosts`: the Host headers the console answers to (DNS rebinding), or null for any */
export function requireToken(tokens: Tokens, hosts: Set<string> | null): MiddlewareHandler {
  return async (c, next) => {
    if (hosts !== null && !hosts.has(c.req.header('host') ?? '')) {
      return new Response('unknown host\n', { status: 421 });
    }
    const url = new URL(c.req.url);
    const given = url.searchParams.get('token');
    if (given !== null && c.req.method === 'GET' && !url.pathname.startsWith('/api/')) {
      if (!same(given, tokens.access)) return unauthorized('wrong token: open the URL tpa ui printed');
      setCookie(c, COOKIE, tokens.access, { httpOnly: true, sameSite: 'Strict', path: '/' });
      url.searchParams.delete('token');
      return c.redirect(url.pathname + url.search + url.hash, 303);
    }
    if (!same(getCookie(c, COOKIE), tokens.access)) {
      return unauthorized('no access: open the URL with ?token= that tpa ui printed');
    }
    if (url.pathname.startsWith('/api/')) {
      const csrf =
        c.req.header(CSRF_HEADER) ?? (c.req.method === 'GET' ? url.searchParams.get('csrf') : null);
      if (!same(csrf ?? undefined, tokens.csrf)) return unauthorized('missing or wrong CSRF token');
      const origin = c.req.header('origin');
      if (c.req.method !== 'GET' && origin !== undefined && origin !== url.origin) {
        return unauthorized(`requests from ${origin} are not accepted`);
      }
    }
    await next();
  };
}
