#!/usr/bin/env node
// node bench/peers/hocuspocus-server.mjs PORT
// A bare Hocuspocus 3.4.4 server (no persistence, no auth hooks) for
// server-compare.mjs; it runs in its own process so that its single Node
// thread is measured apart from the client harness.
import { Server } from '@hocuspocus/server';

const port = Number(process.argv[2] ?? 1234);
const server = new Server({ port, address: '127.0.0.1', quiet: true });
await server.listen();
console.log(`hocuspocus listening on ${port}`);
