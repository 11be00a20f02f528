/** Writing a framework-neutral answer to a node:http response. */
import type { ServerResponse } from "node:http"
import type { HttpAnswer } from "@mcp-oauth/auth-core"

/** Sends an answer and ends the response. */
export const writeAnswer = (res: ServerResponse, answer: HttpAnswer.HttpAnswer): void => {
  res.writeHead(answer.status, answer.headers as Record<string, string>)
  res.end(answer.body)
}
