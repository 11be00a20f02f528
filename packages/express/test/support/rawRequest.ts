import { connect } from "node:net"

/** Sends a raw HTTP/1.1 request (exact header lines, duplicates allowed) and returns status, headers and body. */
export const rawRequest = (
  port: number,
  lines: ReadonlyArray<string>,
  body = ""
): Promise<{ status: number; headers: Map<string, Array<string>>; body: string }> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1")
    const chunks: Array<Buffer> = []
    socket.on("data", (chunk) => chunks.push(chunk))
    socket.on("error", reject)
    socket.on("end", () => {
      const [head = "", ...rest] = Buffer.concat(chunks).toString("utf8").split("\r\n\r\n")
      const [statusLine = "", ...headerLines] = head.split("\r\n")
      const headers = new Map<string, Array<string>>()
      for (const line of headerLines) {
        const at = line.indexOf(":")
        const name = line.slice(0, at).trim().toLowerCase()
        headers.set(name, [...(headers.get(name) ?? []), line.slice(at + 1).trim()])
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n") })
    })
    socket.write([...lines, "Connection: close", `Content-Length: ${Buffer.byteLength(body)}`, "", body].join("\r\n"))
  })
