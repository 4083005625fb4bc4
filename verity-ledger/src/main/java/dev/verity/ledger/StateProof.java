package dev.verity.ledger;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Evidence that, under a given state root, {@link #key()} holds {@link #value()} (membership) or
 * holds nothing (non-membership). Immutable.
 *
 * <p>A proof is the list of sibling hashes met walking from the root along the key's path
 * ({@code siblings.get(d)} is the sibling at depth {@code d}), plus what the walk ends at:
 *
 * <ul>
 *   <li>membership: the entry's canonical encoding (the leaf hash is recomputed from it);
 *   <li>non-membership, other leaf: the walk ends at the leaf of a different path that shares the
 *       first {@code siblings.size()} bits; its path and value hash are given;
 *   <li>non-membership, empty: the walk ends at an empty subtree.
 * </ul>
 *
 * {@link #verify(Hash)} folds the terminal hash up with the siblings and compares with the root.
 * Forging either kind of proof needs a SHA-256 collision (leaves and branches hash with different
 * prefixes and the empty subtree is the all-zero string, which no hash takes).
 */
public final class StateProof {
  private final StateKey key;
  private final byte[] value;
  private final StateRecord record;
  private final List<Hash> siblings;
  private final Hash otherPath;
  private final Hash otherValueHash;

  private StateProof(
      StateKey key, byte[] value, List<Hash> siblings, Hash otherPath, Hash otherValueHash) {
    if (siblings.size() > StateTree.MAX_DEPTH) {
      throw new DecodingException("a state proof has at most 256 siblings, got " + siblings.size());
    }
    if (value != null && otherPath != null) {
      throw new DecodingException("a state proof is either membership or non-membership");
    }
    if ((otherPath == null) != (otherValueHash == null)) {
      throw new DecodingException("a neighbouring leaf needs both its path and its value hash");
    }
    this.key = key;
    this.value = value;
    this.siblings = List.copyOf(siblings);
    this.otherPath = otherPath;
    this.otherValueHash = otherValueHash;
    if (value != null) {
      StateRecord r = StateRecord.decode(value);
      if (r.kind() != key.kind()) {
        throw new DecodingException("proof for a " + key.kind() + " key carries a " + r.kind() + " entry");
      }
      this.record = r;
    } else {
      this.record = null;
    }
  }

  static StateProof membership(StateKey key, byte[] value, List<Hash> siblings) {
    return new StateProof(key, value, siblings, null, null);
  }

  static StateProof nonMembership(StateKey key, List<Hash> siblings, Hash otherPath, Hash otherValueHash) {
    return new StateProof(key, null, siblings, otherPath, otherValueHash);
  }

  public StateKey key() {
    return key;
  }

  /** The entry the proof shows, or empty for a proof of absence. Meaningful only once verified. */
  public Optional<StateRecord> value() {
    return Optional.ofNullable(record);
  }

  /** The entry as the expected type; empty when absent. */
  public <T extends StateRecord> Optional<T> valueAs(Class<T> type) {
    return Optional.ofNullable(record).map(type::cast);
  }

  public List<Hash> siblings() {
    return siblings;
  }

  /**
   * Checks the proof against a state root (normally from a header whose signature was checked).
   *
   * @throws VerificationException if the proof does not lead to {@code stateRoot}
   */
  public void verify(Hash stateRoot) throws VerificationException {
    MessageDigest d = Hash.newDigest();
    byte[] path = key.path().toBytes();
    int depth = siblings.size();
    byte[] h;
    if (value != null) {
      h = StateTree.leafHash(path, d.digest(value), d);
    } else if (otherPath != null) {
      byte[] other = otherPath.toBytes();
      if (Arrays.equals(other, path)) {
        throw new VerificationException("non-membership proof names the key's own path");
      }
      for (int i = 0; i < depth; i++) {
        if (StateTree.bit(other, i) != StateTree.bit(path, i)) {
          throw new VerificationException(
              "the neighbouring leaf in the proof is not on the key's path (bit " + i + ")");
        }
      }
      h = StateTree.leafHash(other, otherValueHash.toBytes(), d);
    } else {
      h = StateTree.EMPTY_HASH;
    }
    for (int i = depth - 1; i >= 0; i--) {
      byte[] sib = siblings.get(i).toBytes();
      h = StateTree.bit(path, i) == 0 ? StateTree.branchHash(h, sib, d) : StateTree.branchHash(sib, h, d);
    }
    if (!MessageDigest.isEqual(h, stateRoot.toBytes())) {
      throw new VerificationException(
          "state proof for " + key + " leads to root " + Hash.wrap(h) + ", not " + stateRoot);
    }
  }

  public CborValue.Map toCbor() {
    CborValue.Map.Builder b =
        CborValue.Map.builder()
            .put("key", key.toCbor())
            .put("siblings", Fields.array(siblings, Fields::bytes));
    if (value != null) {
      b.put("value", value);
    }
    if (otherPath != null) {
      b.put("otherPath", Fields.bytes(otherPath)).put("otherValue", Fields.bytes(otherValueHash));
    }
    return b.build();
  }

  public byte[] encode() {
    return Cbor.encode(toCbor());
  }

  public static StateProof decode(byte[] bytes) {
    return fromCbor(Cbor.decodeMap(bytes));
  }

  public static StateProof fromCbor(CborValue.Map m) {
    m.requireOnly(Set.of("key", "siblings", "value", "otherPath", "otherValue"));
    List<Hash> siblings = new ArrayList<>(
        Fields.list(m, "siblings", StateTree.MAX_DEPTH, v -> {
          if (v instanceof CborValue.Bytes b) {
            return Hash.wrap(b.value());
          }
          throw new DecodingException("proof siblings must be 32-byte hashes");
        }));
    return new StateProof(
        StateKey.fromCbor(m.getMap("key")),
        m.has("value") ? m.getBytes("value") : null,
        siblings,
        m.has("otherPath") ? Fields.hash(m, "otherPath") : null,
        m.has("otherValue") ? Fields.hash(m, "otherValue") : null);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StateProof p
        && key.equals(p.key)
        && Arrays.equals(value, p.value)
        && siblings.equals(p.siblings)
        && java.util.Objects.equals(otherPath, p.otherPath)
        && java.util.Objects.equals(otherValueHash, p.otherValueHash);
  }

  @Override
  public int hashCode() {
    return key.hashCode() * 31 + siblings.hashCode();
  }

  @Override
  public String toString() {
    return "StateProof[" + key + (value != null ? " present" : " absent") + ", depth " + siblings.size() + "]";
  }
}
