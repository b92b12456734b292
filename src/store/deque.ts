/** A growable ring buffer: O(1) push at the back and shift at the front, for the memory windows. */
export class Deque<T> {
  private items: (T | undefined)[] = new Array(16);
  private first = 0;
  length = 0;

  push(item: T): void {
    if (this.length === this.items.length) this.grow();
    this.items[(this.first + this.length) & (this.items.length - 1)] = item;
    this.length++;
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.first];
    this.items[this.first] = undefined;
    this.first = (this.first + 1) & (this.items.length - 1);
    this.length--;
    return item;
  }

  peek(): T | undefined {
    return this.length === 0 ? undefined : this.items[this.first];
  }

  clear(): void {
    this.items = new Array(16);
    this.first = 0;
    this.length = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.length; i++) yield this.items[(this.first + i) & (this.items.length - 1)]!;
  }

  private grow(): void {
    const old = this.items;
    const next: (T | undefined)[] = new Array(old.length * 2);
    for (let i = 0; i < this.length; i++) next[i] = old[(this.first + i) & (old.length - 1)];
    this.items = next;
    this.first = 0;
  }
}
