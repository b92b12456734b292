/**
 * Single active consumer (RabbitMQ 3.11+): subscriptions with the properties
 * `single-active-consumer=true` and `name=<group>` on one stream form a group, in subscription order,
 * of which one member is active. The active one is told with a consumer_update request and starts
 * from the offset its answer gives (a client usually answers with its stored offset).
 *
 * - A plain stream's group: the first member is active; when it leaves, the next in line is told.
 * - A super stream partition's group (the members sent `super-stream=<name>`): the active member is
 *   the one at `partition index mod group size`, so a group's members spread over the partitions.
 *   When a member joins or leaves and that choice changes, the active member is first asked to step
 *   down (consumer_update with active = false, deliveries stop at once); only when its answer comes
 *   (or it leaves) is the new one activated, so it can start from the offset the former stored,
 *   as RabbitMQ's coordinator hands over.
 */
export interface GroupMember {
  /** Sends consumer_update (active = true); deliveries start from the client's answer. */
  activate(): void;
  /** Stops deliveries and sends consumer_update (active = false); the answer calls steppedDown(). */
  deactivate(): void;
}

interface Group {
  readonly members: GroupMember[];
  /** The member's partition index in its super stream; -1 for a plain stream's group. */
  readonly partitionIndex: number;
  active: GroupMember | undefined;
  /** A former active member asked to step down, whose answer is awaited. */
  steppingDown: GroupMember | undefined;
}

export class SingleActiveGroups {
  private readonly groups = new Map<string, Group>();

  /** Adds a member (partitionIndex: its stream's place in a super stream, -1 for none). */
  join(name: string, member: GroupMember, partitionIndex = -1): void {
    let g = this.groups.get(name);
    if (!g) this.groups.set(name, (g = { members: [], partitionIndex, active: undefined, steppingDown: undefined }));
    g.members.push(member);
    this.rebalance(g);
  }

  /** Removes a member; the group's choice of active member is made again. */
  leave(name: string, member: GroupMember): void {
    const g = this.groups.get(name);
    if (!g) return;
    const at = g.members.indexOf(member);
    if (at < 0) return;
    g.members.splice(at, 1);
    if (g.active === member) g.active = undefined;
    if (g.steppingDown === member) g.steppingDown = undefined;
    if (g.members.length === 0) this.groups.delete(name);
    else this.rebalance(g);
  }

  /** The member asked to step down answered: the group's new active member is told. */
  steppedDown(name: string, member: GroupMember): void {
    const g = this.groups.get(name);
    if (!g || g.steppingDown !== member) return;
    g.steppingDown = undefined;
    this.rebalance(g);
  }

  isActive(name: string, member: GroupMember): boolean {
    return this.groups.get(name)?.active === member;
  }

  private rebalance(g: Group): void {
    if (g.steppingDown) return; // the hand-over waits for the former active member's answer
    const wanted = g.partitionIndex < 0 ? g.members[0] : g.members[g.partitionIndex % g.members.length];
    if (!wanted || wanted === g.active) return;
    if (g.active) {
      g.steppingDown = g.active;
      g.active = undefined;
      g.steppingDown.deactivate();
      return;
    }
    g.active = wanted;
    wanted.activate();
  }
}
