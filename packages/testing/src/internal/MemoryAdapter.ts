/**
 * A per-provider in-memory storage adapter for oidc-provider (its own one is process-global and warns).
 */
import type { Adapter, AdapterFactory, AdapterPayload } from "oidc-provider"

interface Entry {
  readonly payload: AdapterPayload
  readonly expiresAt: number
}

/** Creates an adapter factory whose storage belongs to one provider instance. */
export const memoryAdapterFactory = (): AdapterFactory => {
  const entries = new Map<string, Entry>()
  const uids = new Map<string, string>()
  const userCodes = new Map<string, string>()
  const grants = new Map<string, Set<string>>()

  const live = (key: string): AdapterPayload | undefined => {
    const entry = entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= Date.now()) {
      entries.delete(key)
      return undefined
    }
    return entry.payload
  }

  return (model: string): Adapter => {
    const key = (id: string) => `${model}:${id}`
    return {
      async upsert(id, payload, expiresIn) {
        const k = key(id)
        entries.set(k, { payload, expiresAt: expiresIn === undefined ? Infinity : Date.now() + expiresIn * 1000 })
        if (model === "Session" && typeof payload.uid === "string") uids.set(payload.uid, id)
        if (typeof payload.userCode === "string") userCodes.set(payload.userCode, id)
        if (typeof payload.grantId === "string") {
          const members = grants.get(payload.grantId) ?? new Set<string>()
          members.add(k)
          grants.set(payload.grantId, members)
        }
      },
      async find(id) {
        return live(key(id))
      },
      async findByUid(uid) {
        const id = uids.get(uid)
        return id === undefined ? undefined : live(key(id))
      },
      async findByUserCode(userCode) {
        const id = userCodes.get(userCode)
        return id === undefined ? undefined : live(key(id))
      },
      async consume(id) {
        const payload = live(key(id))
        if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000)
      },
      async destroy(id) {
        entries.delete(key(id))
      },
      async revokeByGrantId(grantId) {
        for (const k of grants.get(grantId) ?? []) entries.delete(k)
        grants.delete(grantId)
      }
    }
  }
}
