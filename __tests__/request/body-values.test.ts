import { createServer } from 'node:http'
import type { IncomingMessage } from 'node:http'
import request from 'supertest'
import { readBody } from '../../lib/request/body.js'

// readBody's `values(name)`: one field's values, as `fields[name]` would give them, whatever the
// body's type, and never a property every object inherits.

/** A server that reads the body and answers what `values` and `fields` say of it. */
function reader(prepare?: (req: IncomingMessage) => void) {
  return createServer((req, res) => {
    prepare?.(req)
    readBody(req, 1024).then(
      (body) => {
        const names = ['logout_token', 'returnTo', 'constructor', '__proto__', 'toString']
        const values = Object.fromEntries(names.map((n) => [n, body.values(n)]))
        res.setHeader('Content-Type', 'application/json')
        res.end(JSON.stringify({ type: body.type, values, fields: { ...body.fields } }))
      },
      (err: Error) => {
        res.statusCode = 400
        res.end(err.message)
      },
    )
  })
}

// Built from JSON, so "__proto__" is a key of its own, as in the server's answer.
const none = JSON.parse(
  '{"logout_token":[],"returnTo":[],"constructor":[],"__proto__":[],"toString":[]}',
) as Record<string, string[]>

describe('readBody values', () => {
  it('gives a form field its values in order, and the same fields when all are read', async () => {
    const res = await request(reader())
      .post('/')
      .type('form')
      .send('logout_token=a&returnTo=%2Fbye&logout_token=b+c&constructor=x')
      .expect(200)
    expect(res.body.type).toBe('form')
    expect(res.body.values).toEqual({
      ...none,
      logout_token: ['a', 'b c'],
      returnTo: ['/bye'],
      constructor: ['x'],
    })
    expect(res.body.fields).toEqual({ logout_token: ['a', 'b c'], returnTo: ['/bye'], constructor: ['x'] })
  })

  it('gives a JSON field its string values, and nothing for nested objects', async () => {
    const res = await request(reader())
      .post('/')
      .send({ logout_token: 'a', returnTo: ['/bye', 7, '/x'], toString: { nested: true } })
      .expect(200)
    expect(res.body.type).toBe('json')
    expect(res.body.values).toEqual({ ...none, logout_token: ['a'], returnTo: ['/bye', '/x'] })
  })

  it("gives a parser's body the same values, and nothing inherited", async () => {
    const parsed = { logout_token: 'p', returnTo: ['/bye'] }
    const res = await request(reader((req) => Object.assign(req, { body: parsed })))
      .post('/')
      .send(parsed)
      .expect(200)
    expect(res.body.values).toEqual({ ...none, logout_token: ['p'], returnTo: ['/bye'] })
  })

  it('gives nothing for a body of another type or no body', async () => {
    const other = await request(reader()).post('/').type('text').send('logout_token=a').expect(200)
    expect(other.body).toEqual({ type: 'other', values: none, fields: {} })
    const empty = await request(reader()).post('/').expect(200)
    expect(empty.body).toEqual({ type: 'none', values: none, fields: {} })
  })
})
