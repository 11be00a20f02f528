/**
 * @mcp-oauth/redis: the auth-core Store on Redis, shared by several server instances.
 *
 * @since 0.1.0
 */

/** The Store service on Redis. */
export * as RedisStore from "./RedisStore.js"
