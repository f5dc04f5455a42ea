/**
 * The publish path: how one agent message reaches Redis. Shared by the agent runtime and the
 * server (which reports crashed agents). No `server-only`: the agent is a plain Node process
 * where that import would throw; this module only uses the client it is handed.
 */
import type Redis from "ioredis";
import { channelFor, keys } from "./channels";
import type { AgentMessage } from "./events";

/**
 * PUBLISH the message on its channel. A status message also records the variation's latest
 * status in `run:<id>:variations`, in the same MULTI so that anyone who subscribes and then
 * reads the hash cannot miss a status: it is either in the hash or delivered to them.
 */
export async function publishMessage(redis: Redis, message: AgentMessage): Promise<void> {
  const transaction = redis.multi();
  if (message.type === "status") {
    transaction.hset(keys.runVariations(message.run_id), message.variation_id, message.content);
  }
  transaction.publish(channelFor(message.type, message.run_id, message.variation_id), JSON.stringify(message));
  const results = await transaction.exec();
  if (!results) throw new Error("Redis transaction was aborted");
  for (const [error] of results) if (error) throw error;
}
