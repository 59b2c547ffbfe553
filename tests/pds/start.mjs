// Starts a local PDS (with an in-memory PLC) on loopback and creates one account; prints it as JSON.
import { TestNetworkNoAppView } from '@atproto/dev-env'

const network = await TestNetworkNoAppView.create({})
const agent = network.pds.getAgent()
const handle = 'tidewren.test'
const password = 'app-pass-word'
const { data } = await agent.api.com.atproto.server.createAccount({ handle, password, email: 'team@tidewren.test' })
process.stdout.write(JSON.stringify({ url: network.pds.url, handle, password, did: data.did }) + '\n')
process.stdin.resume()
process.stdin.on('end', async () => { await network.close(); process.exit(0) })
