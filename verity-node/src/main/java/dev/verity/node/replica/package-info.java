/**
 * Model replication between nodes: {@link dev.verity.node.replica.Replicator} fetches a manifest and
 * its model blob from peers block by block (chunk index first, then 1 MiB chunks in parallel), each
 * block checked against its CID before it is stored, and avoids peers that send wrong bytes; {@link
 * dev.verity.node.replica.ModelCache} keeps replicated models within {@code replica.cache_bytes},
 * evicting the least recently used one not in use. Wire rules: docs/PROTOCOL.md 7b.
 */
package dev.verity.node.replica;
