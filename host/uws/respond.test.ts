import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { HttpResponse, us_listen_socket, us_socket } from '@trufflesuite/uws-js-unofficial';
import { loadUws } from './load.ts';
import { sendJson, sendResponse, track, type RequestState } from './respond.ts';

const { uws } = loadUws();
const app = uws.App();
let pending: { res: HttpResponse; state: RequestState } | undefined;

app.get('/later', async (res) => {
  const state = track(res);
  await new Promise((resolve) => setTimeout(resolve, 1));
  sendJson(res, state, 201, { late: true }, [['X-Test', 'yes']]);
  assert.equal(sendJson(res, state, 500, {}), false, 'a second response is refused');
});
app.get('/hold', (res) => {
  pending = { res, state: track(res) };
});
app.any('/head', (res) => {
  sendResponse(res, track(res), { status: 200, body: 'twelve bytes', omitBody: true });
});
app.get('/304', (res) => {
  sendResponse(res, track(res), { status: 304, headers: [['ETag', '"abc"']], body: 'ignored' });
});

const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => app.listen('127.0.0.1', 0, (ls) => (ls ? resolve(ls) : reject(new Error('listen failed')))));
const port = uws.us_socket_local_port(listenSocket as unknown as us_socket);
after(() => {
  uws.us_listen_socket_close(listenSocket);
  (app as { close?: () => void }).close?.();
});

function get(path: string, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });
}

test('a response sent after an await is corked and carries status, headers and JSON', async () => {
  const r = await get('/later');
  assert.equal(r.status, 201);
  assert.equal(r.headers['x-test'], 'yes');
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  assert.deepEqual(JSON.parse(r.body), { late: true });
});

test('HEAD reports the body length without sending it', async () => {
  const r = await get('/head', 'HEAD');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-length'], '12');
  assert.equal(r.body, '');
});

test('304 carries no body and no Content-Length', async () => {
  const r = await get('/304');
  assert.equal(r.status, 304);
  assert.equal(r.headers.etag, '"abc"');
  assert.equal(r.headers['content-length'], undefined);
});

test('after the client goes away the response is marked aborted and not sent', { timeout: 10_000 }, async () => {
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
  while (!pending) await new Promise((resolve) => setTimeout(resolve, 5));
  socket.destroy();
  while (!pending.state.aborted) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(sendResponse(pending.res, pending.state, { status: 200, body: 'too late' }), false);
});
