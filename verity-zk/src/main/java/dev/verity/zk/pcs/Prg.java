package dev.verity.zk.pcs;

import dev.verity.core.Hash;
import dev.verity.zk.field.Goldilocks;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A deterministic random generator: AES-256 in counter mode under a key derived from a seed with
 * SHA-256. Used for every random value a prover needs (code randomness, masks, salts), so that a
 * commitment can be recomputed from its message and its seed; seeds for values that must stay
 * secret come from {@link SecureRandom}.
 */
public final class Prg {
  private static final int BLOCK = 4096;
  private final Cipher cipher;
  private final byte[] zeros = new byte[BLOCK];
  private byte[] buffer = new byte[BLOCK];
  private int pos = BLOCK;

  /** A generator for a seed, under a domain label so that one seed can feed several uses. */
  public Prg(byte[] seed, String domain) {
    byte[] key = Hash.tagged("verity/zk/prg/" + domain, seed).toBytes();
    try {
      cipher = Cipher.getInstance("AES/CTR/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(new byte[16]));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES/CTR is required of every JDK", e);
    }
  }

  /** A generator seeded from the system's secure random source. */
  public static Prg fresh(String domain) {
    byte[] seed = new byte[32];
    new SecureRandom().nextBytes(seed);
    return new Prg(seed, domain);
  }

  private void refill() {
    try {
      buffer = cipher.update(zeros);
    } catch (IllegalStateException e) {
      throw new IllegalStateException("AES/CTR failed", e);
    }
    pos = 0;
  }

  public long nextLong() {
    if (pos + 8 > buffer.length) {
      refill();
    }
    long x = 0;
    for (int i = 7; i >= 0; i--) {
      x = (x << 8) | (buffer[pos + i] & 0xff);
    }
    pos += 8;
    return x;
  }

  /** A uniform field element (rejection sampling). */
  public long nextElement() {
    while (true) {
      long x = nextLong();
      if (Goldilocks.isCanonical(x)) {
        return x;
      }
    }
  }

  public void nextBytes(byte[] out) {
    for (int i = 0; i < out.length; i++) {
      if (pos >= buffer.length) {
        refill();
      }
      out[i] = buffer[pos++];
    }
  }
}
