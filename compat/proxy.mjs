// A proxy between a client library and PX. It forwards every request; for
// the first request to each path in `failFirst` it throws PX's answer away
// and answers 503 instead, after PX stored the events. The client then
// sends the same events again, as it would after a lost answer, and PX must
// store them once.
import http from 'node:http';

export async function flakyProxy(target, failFirst) {
  const log = [];
  const failed = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const path = new URL(req.url, 'http://proxy').pathname;
      const headers = { ...req.headers };
      delete headers.host;
      delete headers.connection;
      try {
        const answer = await fetch(target + req.url, {
          method: req.method,
          headers,
          body: chunks.length ? Buffer.concat(chunks) : undefined,
        });
        const text = await answer.text();
        const fail = failFirst.includes(path) && !failed.has(path);
        if (fail) failed.add(path);
        log.push({ path, status: answer.status, answer: parse(text), failedOnPurpose: fail });
        if (fail) {
          res.writeHead(503, { 'Content-Type': 'text/plain' });
          res.end('failing on purpose: PX stored the events, the client must retry');
          return;
        }
        const pass = {};
        for (const name of ['content-type', 'retry-after']) {
          const v = answer.headers.get(name);
          if (v) pass[name] = v;
        }
        res.writeHead(answer.status, pass);
        res.end(text);
      } catch (e) {
        log.push({ path, error: String(e) });
        res.writeHead(502);
        res.end(String(e));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    log,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Reads PX_URL and PX_KEY, runs `send`, prints one JSON line for the Rust test, exits non-zero on any failure. */
export async function main(failFirst, send) {
  const { PX_URL, PX_KEY } = process.env;
  if (!PX_URL || !PX_KEY) {
    console.error('usage: PX_URL=http://127.0.0.1:PORT PX_KEY=pxi_... node ' + process.argv[1]);
    process.exit(2);
  }
  const proxy = await flakyProxy(PX_URL, failFirst);
  try {
    const extra = await send(proxy.url, PX_KEY);
    console.log(JSON.stringify({ requests: proxy.log, ...extra }));
  } catch (e) {
    console.error(e);
    console.error(JSON.stringify({ requests: proxy.log }));
    process.exitCode = 1;
  } finally {
    await proxy.close();
  }
}
