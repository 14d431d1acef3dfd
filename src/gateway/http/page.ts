import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import { send } from './http-gateway';

/** The repository root, seen from dist/src/gateway/http/ (where this file runs from). */
const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/**
 * Everything the page is: its HTML and CSS from web/, its scripts compiled by
 * `tsc -p tsconfig.web.json` into dist/web/. No inline script, and a policy
 * that allows none: even text that escaped into the document could not run.
 */
const FILES: ReadonlyArray<readonly [route: string, file: string, type: string]> = [
  ['/', 'web/index.html', 'text/html; charset=utf-8'],
  ['/style.css', 'web/style.css', 'text/css; charset=utf-8'],
  ['/app.js', 'dist/web/app.js', 'text/javascript; charset=utf-8'],
  ['/link.js', 'dist/web/link.js', 'text/javascript; charset=utf-8'],
  ['/identity.js', 'dist/web/identity.js', 'text/javascript; charset=utf-8'],
];

const POLICY = "default-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** The page's routes for HttpGateway, files read once now (a missing build is a startup error). */
export function pageRoutes(): Map<string, (res: http.ServerResponse) => void> {
  const routes = new Map<string, (res: http.ServerResponse) => void>();
  for (const [route, file, type] of FILES) {
    const body = fs.readFileSync(path.join(ROOT, file));
    routes.set(route, (res) => {
      res.setHeader('Content-Security-Policy', POLICY);
      send(res, 200, type, body);
    });
  }
  return routes;
}
