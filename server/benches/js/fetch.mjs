// A fresh Node client (an in-memory repo, nothing stored locally) fetches documents from a
// running @automerge/automerge-repo-sync-server by URL and reports how long until every one is
// ready. The server shares only documents asked for by id, so the client is given the URLs (as
// an app keeps them in a list document). At most CONCURRENCY documents are asked for at a time:
// asked for all at once, the server (which loads each document from its disk on request) does
// not answer most of them within the client's 60 s request timeout, and marks them unavailable.
//
// Usage: node fetch.mjs WS_URL URLS_JSON [CONCURRENCY]
import fs from "node:fs"
import { Repo } from "@automerge/automerge-repo"
import { BrowserWebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

const [wsUrl, urlsFile, concurrency = "100"] = process.argv.slice(2)
const urls = JSON.parse(fs.readFileSync(urlsFile, "utf8"))
const started = performance.now()
const repo = new Repo({ network: [new BrowserWebSocketClientAdapter(wsUrl)] })
let next = 0
let ready = 0
let withEvents = 0
const worker = async () => {
  while (next < urls.length) {
    const h = repo.find(urls[next++])
    const doc = await h.doc(["ready", "unavailable"])
    if (h.isReady()) ready++
    if (doc && doc.events !== undefined) withEvents++
  }
}
await Promise.all(Array.from({ length: parseInt(concurrency) }, worker))
const ms = performance.now() - started
console.log(JSON.stringify({ docs: urls.length, ready, with_events: withEvents, ms }))
process.exit(ready === urls.length ? 0 : 1)
