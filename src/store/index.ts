/**
 * Warren's durable storage: the message store (persistent messages of durable queues, and paging of
 * long queues) and the definitions store.
 *
 * On-disk layout under the data dir:
 *
 *   warren.lock                           symlink to the pid of the broker using the dir (MessageStore.open
 *                                         takes it; a symlink needs no data block, so a full disk can start)
 *   definitions.json                      RabbitMQ definitions format, replaced atomically (DefinitionsStore)
 *   definitions.log                       queue, exchange and binding changes since definitions.json, one
 *                                         JSON line each, fdatasynced per change (definitions-store.ts)
 *   clean-shutdown.json                   written by a clean close, removed by open: size + crc32 of every
 *                                         segment and ack file, so a clean restart checks one crc per file
 *                                         instead of one per record (clean-shutdown.ts)
 *   vhosts/<h(vhost)>/queues/<h(queue)>/  one directory per durable queue (h = sha256, 32 hex digits)
 *     queue.json                          {"vhost": ..., "name": ...}: names are only hashed in paths (written
 *                                         at declare, fsynced with the directories by the next round)
 *     delivered                           16 bytes: seqs <= this mark may have been delivered (redelivered flag)
 *     0000000000000001.seg                message records, append-only, named by their first seq
 *     0000000000000001.ack                settled seq ranges of that segment, append-only
 *     0000000000041235.seg ...            a new segment every segmentBytes (16 MiB); a segment and its
 *                                         .ack are deleted once every message in them is settled (the
 *                                         active one too, by the store's sweep, once the queue is drained
 *                                         and idle for a sweep, or drained and past 4 MiB)
 *                                         and rewritten in place with only its live records once fewer
 *                                         than a quarter are live (segment-compactor.ts; its `.seg.tmp`
 *                                         while that runs, deleted by recovery if a crash left it)
 *   journal/0000000000000001.wal          shared write-ahead journal of group-commit rounds with many busy
 *                                         queues, deleted once checkpointed, replayed at open (journal.ts)
 *   transient/<h(vhost)>/<h(queue)>.<n>/  pages of a non-durable queue beyond its memory window: .seg files
 *                                         only, never fsynced, created at the first page-out, removed at
 *                                         delete and close, and emptied at every open (never recovered)
 * Record formats: record.ts. Recovery rules (torn tails, damaged bytes, the fast path after a clean
 * stop, how lost messages are counted): recovery.ts and clean-shutdown.ts. Memory
 * windows, paging and the delivered mark: durable-message-list.ts. Group commit: persister.ts and journal.ts.
 *
 * How the broker uses it:
 *
 *   const store = new MessageStore(dataDir, { logger });       // logger(level, msg, fields)
 *   const recovered = await store.open();                      // vhost -> queue name -> DurableMessageList
 *   // for each durable queue restored from definitions: new Queue(..., recovered.get(vhost)?.get(name) ?? store.create(vhost, name))
 *   // for each recovered list with no queue definition left: store.delete(vhost, name)
 *   queue.declare (durable)   -> store.create(vhost, name)     (returns the open list if there is one)
 *   queue.delete              -> queue.messages.destroy()      (or store.delete(vhost, name)): files removed
 *   publisher confirms        -> list.whenDurable(sendAck)     after pushing to every durable queue routed to
 *   shutdown                  -> store.close()                 (flush + fsync + close every list)
 *
 *   const definitions = new DefinitionsStore(dataDir);
 *   definitions.load() at start (undefined the first time); after a queue, exchange or binding change
 *   definitions.append(records) (true: save a snapshot now), after any other definitions.save(defs).
 *
 * The lists are MessageLists (src/broker/message-list.ts) with these extra guarantees:
 * - all pushed messages are written to the segment (a syscall per queue per event-loop turn, not
 *   per message; with many busy queues the round writes the shared journal and each queue's
 *   segment file is written once per 128 KiB); only persistent ones wait for fdatasync in
 *   whenDurable and survive a restart;
 * - the envelope returned by push() and the one later returned by shift() for the same message may
 *   be different objects (the message may have been paged out and read back in between): settle and
 *   requeue the one shift() returned;
 * - messages delivered but not settled at a crash come back with redelivered=true.
 */
export { DurableMessageList, DEFAULT_LIST_OPTIONS, type DurableListOptions } from './durable-message-list.js';
export { MessageStore, nameHash, type MessageStoreOptions, type RecoveredQueues } from './message-store.js';
export { DefinitionsStore, DEFINITIONS_FILE } from './definitions-store.js';
export type * from './definitions.js';
export type { StoreLogger, StoreLogLevel } from './logger.js';
export { crc32 } from './crc32.js';
