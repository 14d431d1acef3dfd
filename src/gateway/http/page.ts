import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import { send } from './http-gateway';

/** The repository root, seen from dist/src/gateway/http/ (where this file runs from). */
const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/**
 * Everything the page is: its HTML and CSS from web/, its scripts compiled by
 * `tsc -p tsconfig.web.json` into dist/web/ (every module there, each at
 * `/<name>.js`). No inline script, and a policy that allows none: even text
 * that escaped into the document could not run.
 */
function pageFiles(): ReadonlyArray<readonly [route: string, file: string, type: string]> {
  const scripts = fs
    .readdirSync(path.join(ROOT, 'dist', 'web'))
    .filter((f) => /^[a-z0-9-]+\.js$/.test(f))
    .map((f) => [`/${f}`, `dist/web/${f}`, 'text/javascript; charset=utf-8'] as const);
  if (!scripts.some(([route]) => route === '/app.js')) throw new Error('dist/web/app.js is missing: npm run build');
  return [
    ['/', 'web/index.html', 'text/html; charset=utf-8'],
    ['/style.css', 'web/style.css', 'text/css; charset=utf-8'],
    ...scripts,
  ];
}

const POLICY = "default-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** The page's routes for HttpGateway, files read once now (a missing build is a startup error). */
export function pageRoutes(): Map<string, (res: http.ServerResponse) => void> {
  const routes = new Map<string, (res: http.ServerResponse) => void>();
  for (const [route, file, type] of pageFiles()) {
    const body = fs.readFileSync(path.join(ROOT, file));
    routes.set(route, (res) => {
      res.setHeader('Content-Security-Policy', POLICY);
      send(res, 200, type, body);
    });
  }
  return routes;
}
