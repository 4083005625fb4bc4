package dev.verity.zk;

import dev.verity.core.crypto.SecretBytes;
import java.security.SecureRandom;
import java.util.Objects;

/**
 * The secret randomness of an input commitment: 32 bytes from which all of the commitment's
 * randomness is derived. Whoever knows the input and its blinding can open the commitment ({@link
 * InputCommitment#verifyOpening}); without the blinding the commitment reveals nothing about the
 * input. Use a fresh blinding for every proof: opening one commitment in two proofs reveals the
 * input.
 */
public final class Blinding {
  public static final int LENGTH = 32;
  private final SecretBytes secret;

  private Blinding(byte[] bytes) {
    this.secret = SecretBytes.copyOf(bytes);
  }

  /** Fresh blinding from the system's secure random source. */
  public static Blinding random() {
    byte[] b = new byte[LENGTH];
    new SecureRandom().nextBytes(b);
    return new Blinding(b);
  }

  /** A blinding from 32 given bytes (to reopen a commitment made earlier). */
  public static Blinding of(byte[] bytes) {
    Objects.requireNonNull(bytes);
    if (bytes.length != LENGTH) {
      throw new IllegalArgumentException("a blinding has " + LENGTH + " bytes, got " + bytes.length);
    }
    return new Blinding(bytes);
  }

  byte[] reveal() {
    return secret.reveal();
  }

  /** A copy of the secret bytes, for storing the opening; keep them as secret as the input. */
  public byte[] toBytes() {
    return secret.reveal();
  }

  @Override
  public String toString() {
    return "Blinding[redacted]";
  }
}
