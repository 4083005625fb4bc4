package dev.verity.core.crypto;

import dev.verity.core.DecodingException;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * An Ed25519 signing key (RFC 8032) with its public half. The 32-byte seed is held as {@link
 * SecretBytes} and never printed. Signatures are deterministic (RFC 8032 section 5.1.6). Instances
 * are immutable and thread-safe.
 */
public final class Signer {
  public static final int SEED_LENGTH = 32;
  public static final int SIGNATURE_LENGTH = 64;

  private final SecretBytes seed;
  /** The seed's bytes for signing; never leaves this object. */
  private final byte[] secret;
  private final byte[] publicBytes;
  private final PublicKey publicKey;

  private Signer(byte[] seed) {
    this.secret = seed.clone();
    this.seed = SecretBytes.copyOf(seed);
    this.publicBytes = new byte[PublicKey.LENGTH];
    Ed25519.generatePublicKey(secret, 0, publicBytes, 0);
    this.publicKey = PublicKey.fromBytes(publicBytes);
  }

  /** A new key from the system's strong random source. */
  public static Signer generate() {
    byte[] seed = new byte[SEED_LENGTH];
    try {
      SecureRandom.getInstanceStrong().nextBytes(seed);
    } catch (GeneralSecurityException e) {
      new SecureRandom().nextBytes(seed);
    }
    try {
      return fromSeed(seed);
    } finally {
      java.util.Arrays.fill(seed, (byte) 0);
    }
  }

  /** The key whose RFC 8032 private key (seed) is these 32 bytes. */
  public static Signer fromSeed(byte[] seed) {
    if (seed == null || seed.length != SEED_LENGTH) {
      throw new DecodingException("an Ed25519 seed has 32 bytes");
    }
    return new Signer(seed);
  }

  /**
   * Restores a key from its seed and checks that it matches the public key stored with it.
   *
   * @throws DecodingException if the public key is not the one the seed derives
   */
  public static Signer fromSeed(byte[] seed, PublicKey expectedPublic) {
    Signer s = fromSeed(seed);
    if (!s.publicKey.equals(expectedPublic)) {
      throw new DecodingException(
          "the stored public key does not belong to the stored private key; the key file is corrupt");
    }
    return s;
  }

  public byte[] sign(byte[] message) {
    byte[] sig = new byte[SIGNATURE_LENGTH];
    Ed25519.sign(secret, 0, publicBytes, 0, message, 0, message.length, sig, 0);
    return sig;
  }

  public PublicKey publicKey() {
    return publicKey;
  }

  public Address address() {
    return publicKey.address();
  }

  SecretBytes seed() {
    return seed;
  }

  @Override
  public String toString() {
    return "Signer[" + publicKey + "]";
  }
}
