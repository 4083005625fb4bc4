package dev.verity.core.merkle;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.cbor.CborValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** An inclusion proof: a leaf's position, the tree's size, and the sibling hashes bottom-up. */
public record MerkleProof(long index, long treeSize, List<Hash> path) {
  /** No tree Verity builds is deeper than this. */
  public static final int MAX_DEPTH = 64;

  public MerkleProof {
    if (treeSize < 1 || index < 0 || index >= treeSize) {
      throw new DecodingException("proof index " + index + " outside tree of " + treeSize);
    }
    if (path.size() > MAX_DEPTH) {
      throw new DecodingException("proof path longer than " + MAX_DEPTH);
    }
    path = List.copyOf(path);
  }

  public CborValue.Map toCbor() {
    return CborValue.Map.builder()
        .put("index", index)
        .put("size", treeSize)
        .put(
            "path",
            new CborValue.Array(
                path.stream().map(h -> (CborValue) new CborValue.Bytes(h.toBytes())).toList()))
        .build();
  }

  public static MerkleProof fromCbor(CborValue.Map m) {
    m.requireOnly(Set.of("index", "size", "path"));
    List<Hash> path = new ArrayList<>();
    for (CborValue v : m.getArray("path")) {
      if (!(v instanceof CborValue.Bytes b)) {
        throw new DecodingException("proof path must hold byte strings");
      }
      path.add(Hash.wrap(b.value()));
    }
    return new MerkleProof(m.getLong("index"), m.getLong("size"), path);
  }
}
