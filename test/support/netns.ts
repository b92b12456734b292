/**
 * Hosts made of network namespaces for the partition test: a bridge in the test's own namespace
 * (which holds etcd and the clients) and, per host, a namespace joined to the bridge by a veth pair,
 * with its own address on a private /24. `cut(i)` detaches host i's link from the bridge — it can
 * then reach nothing and nothing reaches it — and `heal(i)` attaches it again. Needs root and
 * `ip` (iproute2); `netnsProblem()` says why it cannot run. Every namespace and link is removed by
 * `destroy()`, and also when the process exits, even after a failure.
 */
import { spawnSync } from 'node:child_process';

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
}

/** null when namespaces, veth pairs and bridges can be made here; otherwise the reason. */
export function netnsProblem(): string | null {
  const probe = `wprobe${process.pid % 100000}`;
  try {
    ip(['netns', 'add', probe]);
    ip(['link', 'add', `${probe}a`, 'type', 'veth', 'peer', 'name', `${probe}b`]);
    ip(['link', 'del', `${probe}a`]);
    return null;
  } catch (e) {
    return `network namespaces are not usable here (needs root and iproute2): ${(e as Error).message}`;
  } finally {
    spawnSync('ip', ['netns', 'del', probe]);
  }
}

/**
 * A private /24 (10.231.x) no interface of this machine uses yet, from `start` on: concurrent runs
 * (each with its own bridge) must not share addresses, or their routes would clash.
 */
function freeSubnet(start: number): string {
  const used = spawnSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' }).stdout ?? '';
  for (let k = 0; k < 250; k++) {
    const subnet = `10.231.${(start + k) % 250}`;
    if (!used.includes(` ${subnet}.`)) return subnet;
  }
  throw new Error('no free 10.231.x/24 subnet for the test hosts');
}

export class NetnsLab {
  private destroyed = false;
  private readonly onExit = () => this.destroy();
  readonly bridge: string;
  readonly subnet: string;

  /** Namespace names start with WARREN_NETNS_PREFIX (default `warren`): runs side by side stay apart. */
  private readonly prefix = process.env['WARREN_NETNS_PREFIX'] || 'warren';

  private constructor(readonly size: number, private readonly tag: string) {
    this.bridge = `wbr${tag}`;
    this.subnet = freeSubnet(Number(tag) % 250);
  }

  static create(size: number): NetnsLab {
    const lab = new NetnsLab(size, String(process.pid % 100000));
    process.on('exit', lab.onExit);
    try {
      lab.build();
    } catch (e) {
      lab.destroy();
      throw e;
    }
    return lab;
  }

  get bridgeIp(): string {
    return `${this.subnet}.1`;
  }

  ns(i: number): string {
    return `${this.prefix}-${this.tag}-${i}`;
  }

  hostIp(i: number): string {
    return `${this.subnet}.${10 + i}`;
  }

  /** Prefix that runs a command inside host i. */
  wrap(i: number): string[] {
    return ['ip', 'netns', 'exec', this.ns(i)];
  }

  private hostLink(i: number): string {
    return `wv${this.tag}h${i}`;
  }

  private build(): void {
    ip(['link', 'add', this.bridge, 'type', 'bridge']);
    ip(['addr', 'add', `${this.bridgeIp}/24`, 'dev', this.bridge]);
    ip(['link', 'set', this.bridge, 'up']);
    for (let i = 1; i <= this.size; i++) {
      const ns = this.ns(i);
      const inner = `wv${this.tag}n${i}`;
      ip(['netns', 'add', ns]);
      ip(['link', 'add', this.hostLink(i), 'type', 'veth', 'peer', 'name', inner]);
      ip(['link', 'set', inner, 'netns', ns]);
      ip(['link', 'set', this.hostLink(i), 'master', this.bridge]);
      ip(['link', 'set', this.hostLink(i), 'up']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', ns, 'addr', 'add', `${this.hostIp(i)}/24`, 'dev', inner]);
      ip(['-n', ns, 'link', 'set', inner, 'up']);
    }
  }

  /**
   * Host i is cut off: no etcd, no peers, no clients. Its veth leaves the bridge but stays up, so
   * inside the namespace nothing signals the loss (no carrier change, no unreachable errors): packets
   * just vanish, as behind a failed switch, and the node only learns of it by timeouts.
   */
  cut(i: number): void {
    ip(['link', 'set', this.hostLink(i), 'nomaster']);
  }

  heal(i: number): void {
    ip(['link', 'set', this.hostLink(i), 'master', this.bridge]);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.off('exit', this.onExit);
    // deleting a namespace deletes its end of the veth pair, which deletes the pair
    for (let i = 1; i <= this.size; i++) {
      spawnSync('ip', ['link', 'del', this.hostLink(i)]);
      spawnSync('ip', ['netns', 'del', this.ns(i)]);
    }
    spawnSync('ip', ['link', 'del', this.bridge]);
  }
}
