/**
 * A kafkajs partition assigner that gives each group member whole partition numbers:
 * partition p of every subscribed topic goes to the same member. An actor lives on
 * partition `murmur2(key) mod n` whichever topic its events come from, so a user's
 * logins and payments must be consumed by one process, or two live copies of the user
 * would exist.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { AssignerProtocol, type PartitionAssigner } from "kafkajs";

/** The assigner's protocol name, as the group coordinator sees it. */
export const CO_PARTITIONED = "VigilCoPartitioned";

/** Assigns partition numbers round-robin over the members sorted by id. */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: CO_PARTITIONED,
  version: 1,
  assign({ members, topics }) {
    const sorted = members.map((m) => m.memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>(sorted.map((m) => [m, {}]));
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const member = sorted[partitionId % sorted.length]!;
        const mine = assignment.get(member)!;
        (mine[topic] ??= []).push(partitionId);
      }
    }
    return Promise.resolve(sorted.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment: assignment.get(memberId)!,
        userData: Buffer.alloc(0),
      }),
    })));
  },
  protocol({ topics }) {
    return {
      name: CO_PARTITIONED,
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 1,
        topics,
        userData: Buffer.alloc(0),
      }),
    };
  },
});
