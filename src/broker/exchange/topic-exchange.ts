import type { Message } from '../message.js';
import { Exchange, type Binding, type Destination } from './exchange.js';

/**
 * Topic matching over a trie of binding-key words: `*` matches exactly one word, `#` zero or more.
 * Matching walks the routing key's words once per live trie branch, so thousands of bindings cost
 * about as much as the few branches a key can reach, not one regex per binding.
 */
class TrieNode {
  readonly children = new Map<string, TrieNode>();
  /** Bindings whose key ends at this node. */
  readonly bindings = new Map<string, Destination>();

  get isEmpty(): boolean {
    return this.children.size === 0 && this.bindings.size === 0;
  }
}

export class TopicExchange extends Exchange {
  readonly type = 'topic';
  private readonly root = new TrieNode();

  route(message: Message, out: Set<Destination>): void {
    matchWords(this.root, words(message.routingKey), 0, out);
  }
  protected addToIndex(b: Binding): void {
    let node = this.root;
    for (const word of words(b.routingKey)) {
      let next = node.children.get(word);
      if (!next) node.children.set(word, (next = new TrieNode()));
      node = next;
    }
    node.bindings.set(b.id, b.destination);
  }
  protected removeFromIndex(b: Binding): void {
    const keyWords = words(b.routingKey);
    const path: TrieNode[] = [this.root];
    let node = this.root;
    for (const word of keyWords) {
      const next = node.children.get(word);
      if (!next) return;
      path.push((node = next));
    }
    node.bindings.delete(b.id);
    // Prune branches left empty so the trie does not grow with churned bindings.
    for (let i = keyWords.length; i > 0 && path[i]!.isEmpty; i--) path[i - 1]!.children.delete(keyWords[i - 1]!);
  }
}

/** As RabbitMQ: the empty key has zero words (so it matches `#` but not `*`); 'a..b' has an empty middle word. */
function words(key: string): string[] {
  return key === '' ? [] : key.split('.');
}

function matchWords(node: TrieNode, words: string[], i: number, out: Set<Destination>): void {
  if (i === words.length) {
    for (const d of node.bindings.values()) out.add(d);
    // A trailing `#` also matches zero words.
    const hash = node.children.get('#');
    if (hash) matchWords(hash, words, i, out);
    return;
  }
  const exact = node.children.get(words[i]!);
  if (exact) matchWords(exact, words, i + 1, out);
  const star = node.children.get('*');
  if (star) matchWords(star, words, i + 1, out);
  const hash = node.children.get('#');
  if (hash) {
    // `#` swallows 0..n words: try every split point.
    for (let j = i; j <= words.length; j++) matchWords(hash, words, j, out);
  }
}
