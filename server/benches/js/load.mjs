// Loads documents into a running @automerge/automerge-repo-sync-server: a Node client imports each
// document's Automerge bytes into its repo (connected to the server by WebSocket, sharing
// generously, as a normal client does), waits until the server's sync state says it holds the
// same heads for every document, then until the server's storage folder holds every document.
//
// Usage: node load.mjs WS_URL DOCS_FILE SERVER_DATA_DIR OUT_URLS_JSON
// DOCS_FILE: each document as a u32 little-endian length and its bytes.
import fs from "node:fs"
import path from "node:path"
import { Repo } from "@automerge/automerge-repo"
import { BrowserWebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

const [wsUrl, docsFile, serverDir, outFile] = process.argv.slice(2)
const bytes = fs.readFileSync(docsFile)
const docs = []
for (let pos = 0; pos + 4 <= bytes.length; ) {
  const len = bytes.readUInt32LE(pos)
  docs.push(new Uint8Array(bytes.subarray(pos + 4, pos + 4 + len)))
  pos += 4 + len
}

const repo = new Repo({ network: [new BrowserWebSocketClientAdapter(wsUrl)] })
await repo.networkSubsystem.whenReady()
const started = Date.now()
while (repo.peers.length === 0) await new Promise(r => setTimeout(r, 10))
const server = repo.peers[0]
const storageId = repo.peerMetadataByPeerId[server]?.storageId
if (!storageId) throw new Error("the sync server announced no storage id")

const same = (a, b) => a && b && a.length === b.length && [...a].sort().join() === [...b].sort().join()
const whenServerHas = h =>
  new Promise(resolve => {
    const check = () => {
      if (same(h.getRemoteHeads(storageId), h.heads())) {
        h.off("remote-heads", check)
        resolve()
      }
    }
    h.on("remote-heads", check)
    check()
  })
// In batches, so progress shows and the client does not queue 10,000 documents at once.
const BATCH = 500
const handles = []
for (let i = 0; i < docs.length; i += BATCH) {
  const batch = docs.slice(i, i + BATCH).map(d => repo.import(d))
  handles.push(...batch)
  await Promise.all(batch.map(whenServerHas))
  console.error(`${handles.length} documents on the server after ${((Date.now() - started) / 1000).toFixed(0)} s`)
}
const synced = Date.now()

// The server saves each document shortly after it changes (throttled); wait until all are on disk.
const onDisk = () => {
  let n = 0
  for (const a of fs.readdirSync(serverDir)) {
    const p = path.join(serverDir, a)
    if (!fs.statSync(p).isDirectory()) continue
    for (const b of fs.readdirSync(p)) {
      const q = path.join(p, b)
      if (fs.statSync(q).isDirectory() && fs.readdirSync(q).length > 0) n++
    }
  }
  return n
}
for (let i = 0; onDisk() < docs.length; i++) {
  if (i > 600) throw new Error(`only ${onDisk()} of ${docs.length} documents on the server's disk after 60 s`)
  await new Promise(r => setTimeout(r, 100))
}
await new Promise(r => setTimeout(r, 1000))
fs.writeFileSync(outFile, JSON.stringify(handles.map(h => h.url)))
console.log(JSON.stringify({ docs: docs.length, sync_ms: synced - started, stored_ms: Date.now() - started, on_disk: onDisk() }))
process.exit(0)
