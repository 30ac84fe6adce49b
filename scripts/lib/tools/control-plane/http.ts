// HTTPS requests to the ephemeral API server, as a given identity (the admin client certificate, or
// a ServiceAccount token, which is how EMQX's discovery calls the API). Only loopback addresses are
// ever contacted: anything else is refused before a socket is opened.
import https from 'node:https';

export interface Identity {
  readonly ca: string;
  readonly cert?: string;
  readonly key?: string;
  readonly token?: string;
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

export async function request(url: string, who: Identity, options: { method?: string; body?: unknown; timeoutMs?: number } = {}): Promise<HttpAnswer> {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1') throw new Error(`refusing to contact ${target.hostname}: only 127.0.0.1 is allowed`);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      target,
      {
        method: options.method ?? 'GET',
        ca: who.ca,
        cert: who.cert,
        key: who.key,
        headers: {
          Accept: 'application/json',
          ...(who.token ? { Authorization: `Bearer ${who.token}` } : {}),
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
        },
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${target.pathname} in ${(options.timeoutMs ?? 10_000) / 1000} s`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}
