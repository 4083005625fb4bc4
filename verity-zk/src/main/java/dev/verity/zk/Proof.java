package dev.verity.zk;

import dev.verity.core.DecodingException;
import java.util.Arrays;

/**
 * A proof of inference. Binary layout (version 1): the 4 ASCII bytes "VZKP", one version byte
 * (1), then the prover's messages in protocol order, each of a size fixed by the statement:
 * digests and salts as raw bytes, field elements as 8-byte little-endian canonical values (below
 * p), extension elements as two of those. No lengths are encoded, because the statement
 * determines them; the verifier reads the messages as it checks them, rejects a non-canonical
 * element, a proof that ends early and a proof with bytes left over, so every proof has exactly one
 * encoding. See docs/ZK.md for the message order.
 */
public final class Proof {
  public static final int VERSION = 1;
  /** Proofs larger than this are rejected before any work is done. */
  public static final int MAX_BYTES = 16 << 20;

  static final byte[] MAGIC = {'V', 'Z', 'K', 'P'};
  static final int HEADER = MAGIC.length + 1;

  private final byte[] bytes;

  private Proof(byte[] bytes) {
    this.bytes = bytes;
  }

  static Proof ofBody(byte[] body) {
    byte[] b = new byte[HEADER + body.length];
    System.arraycopy(MAGIC, 0, b, 0, MAGIC.length);
    b[MAGIC.length] = VERSION;
    System.arraycopy(body, 0, b, HEADER, body.length);
    return new Proof(b);
  }

  /** Checks the header and size; the messages are checked by verification. */
  public static Proof decode(byte[] bytes) {
    if (bytes == null || bytes.length < HEADER) {
      throw new DecodingException("a proof starts with a 5-byte header; got " + (bytes == null ? 0 : bytes.length) + " bytes");
    }
    if (bytes.length > MAX_BYTES) {
      throw new DecodingException("proof of " + bytes.length + " bytes exceeds the limit of " + MAX_BYTES);
    }
    if (!Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
      throw new DecodingException("not a Verity inference proof (bad magic bytes)");
    }
    if (bytes[MAGIC.length] != VERSION) {
      throw new DecodingException("unsupported proof version " + (bytes[MAGIC.length] & 0xff) + "; this verifier reads version " + VERSION);
    }
    return new Proof(bytes.clone());
  }

  public byte[] encode() {
    return bytes.clone();
  }

  byte[] view() {
    return bytes;
  }

  public int size() {
    return bytes.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Proof p && Arrays.equals(bytes, p.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "Proof[" + bytes.length + " bytes]";
  }
}
