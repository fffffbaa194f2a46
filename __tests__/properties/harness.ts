import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import type { CryptoKey, JWK, JWTPayload } from 'jose'
import type fc from 'fast-check'
import type { Express, NextFunction, Request, Response } from 'express'

/** A signing key and its public JWK (with `kid` and `alg`), as an IdP would publish it. */
export interface TestKey {
  privateKey: CryptoKey
  jwk: JWK
  alg: string
}

export async function makeKey(alg = 'ES256', kid = `k-${alg}`): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, alg }
}

/** A correctly signed JWT; `header` extras (jku, x5u, crit...) are signed into the protected header. */
export function mint(
  key: TestKey,
  claims: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.jwk.kid, ...header })
    .sign(key.privateKey)
}

/** A local HTTP server on 127.0.0.1:0 that counts the requests it gets. */
export interface LocalServer {
  url: string
  hits: string[]
  close(): Promise<void>
}

export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<LocalServer> {
  const hits: string[] = []
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method ?? ''} ${req.url ?? ''}`)
    handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A JWKS endpoint serving `keys`. */
export function jwksServer(keys: JWK[]): Promise<LocalServer> {
  const body = JSON.stringify({ keys })
  return startServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(body)
  })
}

/**
 * fast-check parameters for every property: 1,000 runs, a seed taken from `FC_SEED` (to replay a
 * failure) or drawn and printed, so any CI failure can be reproduced from its log.
 */
export function propertyParams(numRuns = 1000): fc.Parameters<unknown> {
  const fromEnv = process.env.FC_SEED === undefined ? Number.NaN : Number(process.env.FC_SEED)
  const seed = Number.isInteger(fromEnv) ? fromEnv : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0
  process.stdout.write(`fast-check seed ${seed} (replay with FC_SEED=${seed})\n`)
  return { numRuns, seed, verbose: 1, endOnFailure: true }
}

/**
 * Serves an app on 127.0.0.1, port 0, with a last error handler that answers 500: the properties
 * assert that no input ever reaches it.
 */
export async function serve(app: Express): Promise<{ server: Server; url: string }> {
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).end(String(err))
  })
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}
