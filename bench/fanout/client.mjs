// The driver's requests to the services of the fan-out benchmark (bench/fanout.mjs), over keep-alive.
import { randomUUID } from 'node:crypto'
import { Agent, request } from 'node:http'
import { accessToken } from '../fixtures.mjs'

export const agent = new Agent({ keepAlive: true, maxSockets: 8 })

/** One request; resolves to its status, headers, body and the clock reading when its response arrived. */
export function send(port, method, path, headers) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      const at = process.hrtime.bigint()
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString(), at }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

export async function login(service, token) {
  const res = await send(service.port, 'GET', '/login', { authorization: `Bearer ${token}` })
  if (res.status !== 200) throw new Error(`${service.name} answered the login with ${res.status}`)
  const cookie = (res.headers['set-cookie'] ?? []).find((c) => c.startsWith('connect.sid='))
  if (!cookie) throw new Error(`${service.name} set no session cookie`)
  return { id: JSON.parse(res.body).id, cookie: cookie.split(';')[0] }
}

export function mint(key, n) {
  return accessToken(key, 'RS256', { sid: `fanout-sid-${n}-${randomUUID()}`, sub: `fanout-user-${n}` })
}
