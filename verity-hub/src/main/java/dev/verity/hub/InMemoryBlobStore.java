package dev.verity.hub;

import dev.verity.core.Cid;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link BlobStore} in memory, for tests and short-lived caches: the same naming, verification and
 * semantics as {@link FileBlobStore}, without durability. Holds every blob in the heap. Thread-safe.
 */
public final class InMemoryBlobStore extends AbstractBlobStore {
  private final Map<Cid, byte[]> blocks = new ConcurrentHashMap<>();
  private final List<Cid> quarantined = new CopyOnWriteArrayList<>();

  public InMemoryBlobStore() {}

  /** Replaces a block's bytes without any check, as storage corruption would; for tests. */
  void corrupt(Cid block, byte[] bytes) {
    blocks.put(block, bytes.clone());
  }

  /** The blocks moved aside after failing verification, oldest first. */
  List<Cid> quarantined() {
    return List.copyOf(quarantined);
  }

  /** The CIDs of the blocks stored. */
  java.util.Set<Cid> blockCids() {
    return java.util.Set.copyOf(blocks.keySet());
  }

  @Override
  byte[] load(Cid block, int maxLength) {
    byte[] b = blocks.get(block);
    return b == null ? null : b.clone();
  }

  @Override
  boolean has(Cid block) {
    return blocks.containsKey(block);
  }

  @Override
  void remove(Cid block) {
    blocks.remove(block);
  }

  @Override
  void quarantine(Cid block) {
    if (blocks.remove(block) != null) {
      quarantined.add(block);
    }
  }

  @Override
  List<Cid> indexes() {
    List<Cid> out = new ArrayList<>();
    for (Cid c : blocks.keySet()) {
      if (c.codec() == Cid.Codec.DAG_CBOR) {
        out.add(c);
      }
    }
    return out;
  }

  @Override
  Staging stage() {
    return new Staging() {
      private final Map<Cid, byte[]> staged = new LinkedHashMap<>();

      @Override
      public void add(Cid cid, byte[] bytes, int length) {
        if (!staged.containsKey(cid) && !blocks.containsKey(cid)) {
          staged.put(cid, java.util.Arrays.copyOf(bytes, length));
        }
      }

      @Override
      public void commit() {
        blocks.putAll(staged); // in order: chunks first, the blob's own block last
        staged.clear();
      }

      @Override
      public void close() {
        staged.clear();
      }
    };
  }

  @Override
  public void close() {}

  @Override
  public String toString() {
    return "InMemoryBlobStore[" + blocks.size() + " blocks]";
  }
}
