// Shared by the example-page test and the WASM benchmark: the repository's
// files over http on 127.0.0.1 (workers and ES modules need http, not
// file://) and just enough of a WebDriver client to drive Chromium through
// chromedriver, with no npm packages.

import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.ts': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.md': 'text/plain; charset=utf-8',
};

/**
 * Serves the files under `root` (GET only, nothing outside it), adding
 * `headers` to every answer. `mounts` maps URL prefixes ('/_x/') to other
 * folders, served the same way (the benchmark's SQLite-WASM files).
 */
export function serveRepository(root, headers = {}, mounts = {}) {
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      const pathname = decodeURIComponent(url.pathname);
      const prefix = Object.keys(mounts).find((p) => pathname.startsWith(p));
      const base = prefix ? path.resolve(mounts[prefix]) : root;
      const file = path.resolve(base, `.${prefix ? pathname.slice(prefix.length - 1) : pathname}`);
      if (!file.startsWith(base + path.sep) || req.method !== 'GET') throw new Error('refused');
      if (!(await stat(file)).isFile()) throw new Error('not a file');
      const body = await readFile(file);
      res.writeHead(200, {
        'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'Cache-Control': 'no-store',
        ...headers,
      });
      res.end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Just enough WebDriver: sessions, commands, scripts. */
export class WebDriver {
  constructor(base) {
    this.base = base;
    this.session = null;
  }

  async send(method, url, body) {
    const response = await fetch(this.base + url, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok || answer.value?.error) {
      throw new Error(`WebDriver ${method} ${url}: ${answer.value?.error}: ${answer.value?.message}`);
    }
    return answer.value;
  }

  cmd(method, suffix, body) {
    return this.send(method, `/session/${this.session}${suffix}`, body);
  }

  async start(capabilities) {
    const value = await this.send('POST', '/session', { capabilities: { alwaysMatch: capabilities } });
    this.session = value.sessionId;
  }

  exec(script, ...args) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  async stop() {
    if (this.session) await this.send('DELETE', `/session/${this.session}`).catch(() => {});
    this.session = null;
  }
}
