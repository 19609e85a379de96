// The Aedes broker of the mq end-to-end tests: `node broker.mjs PORT`
// listens on 127.0.0.1:PORT with in-memory persistence until killed.
import { createServer } from 'node:net'
import { Aedes } from 'aedes'

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node broker.mjs PORT')
  process.exit(2)
}
const aedes = await Aedes.createBroker()
aedes.on('clientError', (client, err) => console.error(`client ${client.id}: ${err.message}`))
aedes.on('connectionError', (client, err) => console.error(`connection ${client.id}: ${err.message}`))
const server = createServer(aedes.handle)
server.on('error', (err) => {
  console.error(`listen 127.0.0.1:${port}: ${err.code ?? err.message}`)
  process.exit(1)
})
server.listen(port, '127.0.0.1', () => console.error(`aedes listening on 127.0.0.1:${port}`))
