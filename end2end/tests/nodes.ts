import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/**
 * A server process of the browser tests' own on the Redis engine, sharing
 * the test server's database and Redis, that a test may kill and start
 * again. scripts/test.sh names the binary and the database in the
 * environment.
 */
export interface ServerNode {
  /** Where a browser opens it. */
  url: string;
  /** Starts it (again, on the same port) and waits until it is healthy. */
  start(): Promise<void>;
  /** kill -9, and waits until it is gone. */
  kill(): Promise<void>;
}

function setting(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (scripts/test.sh sets it for the browser tests)`);
  return value;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function healthy(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the node at ${url} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the node at ${url} never became healthy`);
}

/** A node (not started yet); its log goes to `log`. */
export async function redisNode(log: string): Promise<ServerNode> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const root = path.resolve(__dirname, '..', '..');
  const env = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: setting('E2E_DATABASE_URL'),
    REDIS_URL: setting('REDIS_URL'),
    LIVE_ENGINE: 'redis',
    // A dead owner's sessions move within a second.
    SESSION_LEASE_MS: '1000',
    LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
    LEPTOS_SITE_ROOT: setting('E2E_SITE_ROOT'),
    LEPTOS_ENV: 'PROD',
    SIGN_UPS_PER_ADDRESS: '0',
    METRICS_ADDR: '',
    RUST_LOG: 'info,tower_http=warn',
  };
  let child: ChildProcess | null = null;
  return {
    url,
    async start() {
      const out = fs.openSync(log, 'a');
      child = spawn(setting('E2E_SERVER_BIN'), [], { cwd: root, env, stdio: ['ignore', out, out] });
      fs.closeSync(out);
      await healthy(url, child);
    },
    async kill() {
      if (!child || child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
      child = null;
    },
  };
}
