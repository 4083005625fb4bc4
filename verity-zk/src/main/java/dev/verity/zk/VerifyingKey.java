package dev.verity.zk;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import java.security.MessageDigest;
import java.util.Objects;
import java.util.Set;

/**
 * What a verifier needs to know about a model: its CID, its architecture and the root of the
 * deterministic commitment to its quantized weights. Anyone holding the model derives the same key
 * with {@link #of(QuantizedModel)}, so a published key can be checked against the model named by
 * the CID. A proof is bound to the key's {@link #digest()}: it verifies for no other model, no
 * other weights and no other architecture.
 *
 * <p>Canonical encoding: CBOR map {v: 1, model: CID bytes, arch: architecture, weights: 32-byte
 * root}.
 */
public final class VerifyingKey {
  public static final int VERSION = 1;
  private static final int MAX_BYTES = 1 << 20;

  private final Cid modelCid;
  private final Architecture architecture;
  private final byte[] weightsRoot;
  private final byte[] encoded;

  VerifyingKey(Cid modelCid, Architecture architecture, byte[] weightsRoot) {
    this.modelCid = Objects.requireNonNull(modelCid);
    this.architecture = Objects.requireNonNull(architecture);
    if (weightsRoot.length != 32) {
      throw new IllegalArgumentException("weights root must be 32 bytes");
    }
    this.weightsRoot = weightsRoot.clone();
    this.encoded =
        Cbor.encode(
            CborValue.Map.builder()
                .put("v", VERSION)
                .put("model", modelCid.toBytes())
                .put("arch", architecture.toCbor())
                .put("weights", weightsRoot)
                .build());
  }

  /** Derives the key of a model (commits to its weights; linear in the model's size). */
  public static VerifyingKey of(QuantizedModel model) {
    return ProvingKey.of(model).verifyingKey();
  }

  public Cid modelCid() {
    return modelCid;
  }

  public Architecture architecture() {
    return architecture;
  }

  public byte[] weightsRoot() {
    return weightsRoot.clone();
  }

  /** Canonical bytes. */
  public byte[] encode() {
    return encoded.clone();
  }

  /** The digest every proof for this key is bound to. */
  public Hash digest() {
    return Hash.tagged("verity/zk/verifying-key/v1", encoded);
  }

  /** Strict decoding of {@link #encode()}. */
  public static VerifyingKey decode(byte[] bytes) {
    if (bytes == null || bytes.length > MAX_BYTES) {
      throw new DecodingException("verifying key is missing or larger than " + MAX_BYTES + " bytes");
    }
    CborValue.Map m = Cbor.decodeMap(bytes);
    m.requireOnly(Set.of("v", "model", "arch", "weights"));
    if (m.getLong("v") != VERSION) {
      throw new DecodingException("unsupported verifying key version " + m.getLong("v"));
    }
    byte[] root = m.getBytes("weights");
    if (root.length != 32) {
      throw new DecodingException("weights root must be 32 bytes");
    }
    return new VerifyingKey(Cid.fromBytes(m.getBytes("model")), Architecture.fromCbor(m.get("arch")), root);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof VerifyingKey k && MessageDigest.isEqual(encoded, k.encoded);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(encoded);
  }

  @Override
  public String toString() {
    return "VerifyingKey[" + modelCid + ", " + digest().toHex().substring(0, 16) + "]";
  }
}
