// Creates a Redis store on a node-redis client, starts its subscriber and closes the store at once,
// while that subscriber is still connecting, then closes the client and returns to the event loop:
// the process must end by itself.
// argv[2]: JSON { kind: 'client' | 'cluster', urls: string[] }. Prints `closed` once both are.
import { createClient, createCluster } from 'redis'
import { redisStore } from '../../dist/esm/index.js'

const { kind, urls } = JSON.parse(process.argv[2])
const client =
  kind === 'cluster'
    ? createCluster({ rootNodes: urls.map((url) => ({ url })) })
    : createClient({ url: urls[0], pingInterval: 500 })
client.on('error', () => undefined)
await client.connect()
const store = redisStore({ client, prefix: 'close-store:' })
// The first guard read starts the local view, whose subscriber (a duplicate of the client) starts
// connecting; the store is closed before that connection can be made.
const read = store.revokedAt({ iss: 'https://idp.example.com/', sid: 'close-store' })
store.close?.()
await read
await client.close()
process.stdout.write('closed\n')
