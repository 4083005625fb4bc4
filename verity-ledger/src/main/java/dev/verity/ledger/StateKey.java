package dev.verity.ledger;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.Address;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

/**
 * The name of one entry of the ledger state: a kind and an identifier. Its {@link #path()} is the
 * 256-bit position of the entry in the {@link StateTree}: SHA-256 of the tag "verity/state", the
 * kind's code and the identifier, so entries spread evenly and no two kinds collide.
 */
public final class StateKey {
  /** What an entry holds; the code is part of the path and never changes. */
  public enum Kind {
    CONFIG(0, 0),
    SUPPLY(1, 0),
    ACCOUNT(2, Address.LENGTH),
    STAKE(3, Address.LENGTH),
    NODE(4, Address.LENGTH),
    MODEL(5, Cid.BINARY_LENGTH),
    JOB(6, Hash.LENGTH),
    RECEIPT(7, Cid.BINARY_LENGTH),
    CHALLENGE(8, Hash.LENGTH),
    DISPUTE(9, Hash.LENGTH),
    CHECK(10, Hash.LENGTH),
    SAMPLING(11, 0),
    VERIFIERS(12, 0),
    EXPOSURE(13, Address.LENGTH),
    HORIZON(14, 0);

    private final int code;
    private final int idLength;

    Kind(int code, int idLength) {
      this.code = code;
      this.idLength = idLength;
    }

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    static Kind ofLabel(String label) {
      for (Kind k : values()) {
        if (k.label().equals(label)) {
          return k;
        }
      }
      throw new DecodingException("unknown state entry kind '" + label + "'");
    }
  }

  public static final StateKey CONFIG = new StateKey(Kind.CONFIG, new byte[0]);
  public static final StateKey SUPPLY = new StateKey(Kind.SUPPLY, new byte[0]);
  /** The optimistic jobs waiting for their sampling seed. */
  public static final StateKey SAMPLING = new StateKey(Kind.SAMPLING, new byte[0]);
  /** The registered nodes with the verifier role, from which samples are drawn. */
  public static final StateKey VERIFIERS = new StateKey(Kind.VERIFIERS, new byte[0]);
  /** The last height a height-counted deadline waits for (see {@link StateRecord.Horizon}). */
  public static final StateKey HORIZON = new StateKey(Kind.HORIZON, new byte[0]);

  private final Kind kind;
  private final byte[] id;
  private final Hash path;

  private StateKey(Kind kind, byte[] id) {
    if (id.length != kind.idLength) {
      throw new DecodingException(
          "a " + kind.label() + " key has a " + kind.idLength + "-byte id, got " + id.length);
    }
    this.kind = kind;
    this.id = id;
    byte[] tagged = new byte[1 + id.length];
    tagged[0] = (byte) kind.code;
    System.arraycopy(id, 0, tagged, 1, id.length);
    this.path = Hash.tagged("verity/state", tagged);
  }

  public static StateKey account(Address a) {
    return new StateKey(Kind.ACCOUNT, a.toBytes());
  }

  public static StateKey stake(Address a) {
    return new StateKey(Kind.STAKE, a.toBytes());
  }

  public static StateKey node(Address operator) {
    return new StateKey(Kind.NODE, operator.toBytes());
  }

  public static StateKey model(Cid manifest) {
    return new StateKey(Kind.MODEL, manifest.toBytes());
  }

  public static StateKey job(Hash jobId) {
    return new StateKey(Kind.JOB, jobId.toBytes());
  }

  public static StateKey receipt(Cid receipt) {
    return new StateKey(Kind.RECEIPT, receipt.toBytes());
  }

  public static StateKey challenge(Hash challengeId) {
    return new StateKey(Kind.CHALLENGE, challengeId.toBytes());
  }

  public static StateKey dispute(Hash disputeId) {
    return new StateKey(Kind.DISPUTE, disputeId.toBytes());
  }

  /** The trace commitment, sample and attestations of an optimistic job. */
  public static StateKey check(Hash jobId) {
    return new StateKey(Kind.CHECK, jobId.toBytes());
  }

  /** What the stake of {@code a} still backs (see {@link StateRecord.Exposure}). */
  public static StateKey exposure(Address a) {
    return new StateKey(Kind.EXPOSURE, a.toBytes());
  }

  public Kind kind() {
    return kind;
  }

  public byte[] id() {
    return id.clone();
  }

  /** Position of this entry in the state tree. */
  public Hash path() {
    return path;
  }

  CborValue.Map toCbor() {
    return CborValue.Map.builder().put("kind", kind.label()).put("id", id).build();
  }

  static StateKey fromCbor(CborValue.Map m) {
    m.requireOnly(Set.of("kind", "id"));
    Kind kind = Kind.ofLabel(m.getText("kind"));
    byte[] id = m.getBytes("id");
    if (kind == Kind.MODEL || kind == Kind.RECEIPT) {
      Cid.fromBytes(id); // only well-formed CIDs name models and receipts
    }
    return new StateKey(kind, id);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StateKey k && kind == k.kind && MessageDigest.isEqual(id, k.id);
  }

  @Override
  public int hashCode() {
    return 31 * kind.hashCode() + Arrays.hashCode(id);
  }

  @Override
  public String toString() {
    return kind.label() + ":" + java.util.HexFormat.of().formatHex(id);
  }
}
