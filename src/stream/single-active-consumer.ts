/**
 * Single active consumer (RabbitMQ 3.11+): subscriptions with the properties
 * `single-active-consumer=true` and `name=<group>` on one stream form a group, in subscription order,
 * of which only the first is active. The active one is told with a consumer_update request and starts
 * from the offset its answer gives (a client usually answers with its stored offset); when it leaves,
 * the next in line is told the same way, so consumption resumes where the group left it.
 */
export interface GroupMember {
  /** Sends the consumer_update request for this member (active = true). */
  activate(): void;
}

export class SingleActiveGroups {
  private readonly groups = new Map<string, GroupMember[]>();

  /** Adds a member; it is activated at once when it is the group's first. */
  join(group: string, member: GroupMember): void {
    let list = this.groups.get(group);
    if (!list) this.groups.set(group, (list = []));
    list.push(member);
    if (list.length === 1) member.activate();
  }

  /** Removes a member; when it was the active one, the next in line is activated. */
  leave(group: string, member: GroupMember): void {
    const list = this.groups.get(group);
    if (!list) return;
    const at = list.indexOf(member);
    if (at < 0) return;
    list.splice(at, 1);
    if (list.length === 0) this.groups.delete(group);
    else if (at === 0) list[0]!.activate();
  }

  isActive(group: string, member: GroupMember): boolean {
    return this.groups.get(group)?.[0] === member;
  }
}
