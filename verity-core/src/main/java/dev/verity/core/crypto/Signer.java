package dev.verity.core.crypto;

import dev.verity.core.DecodingException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.HexFormat;

/**
 * An Ed25519 signing key (RFC 8032) with its public half. The 32-byte seed is held as {@link
 * SecretBytes} and never printed. Instances are immutable and thread-safe.
 */
public final class Signer {
  public static final int SEED_LENGTH = 32;
  public static final int SIGNATURE_LENGTH = 64;
  /** DER prefix of a PKCS#8 PrivateKeyInfo for Ed25519 with a 32-byte seed. */
  private static final byte[] PKCS8_PREFIX =
      HexFormat.of().parseHex("302e020100300506032b657004220420");

  private final SecretBytes seed;
  private final PrivateKey jdkKey;
  private final PublicKey publicKey;

  private Signer(SecretBytes seed, PrivateKey jdkKey, PublicKey publicKey) {
    this.seed = seed;
    this.jdkKey = jdkKey;
    this.publicKey = publicKey;
  }

  /** A new key from the system's strong random source. */
  public static Signer generate() {
    byte[] seed = new byte[SEED_LENGTH];
    try {
      SecureRandom.getInstanceStrong().nextBytes(seed);
    } catch (GeneralSecurityException e) {
      new SecureRandom().nextBytes(seed);
    }
    return fromSeed(seed);
  }

  /** The key whose RFC 8032 private key (seed) is these 32 bytes. */
  public static Signer fromSeed(byte[] seed) {
    if (seed == null || seed.length != SEED_LENGTH) {
      throw new DecodingException("an Ed25519 seed has 32 bytes");
    }
    try {
      // The JDK derives the public half only through its key-pair generator, which takes the seed
      // as the next 32 random bytes it draws.
      KeyPairGenerator gen = KeyPairGenerator.getInstance("Ed25519");
      gen.initialize(NamedParameterSpec.ED25519, new FixedSeed(seed));
      KeyPair pair = gen.generateKeyPair();
      byte[] der = new byte[PKCS8_PREFIX.length + SEED_LENGTH];
      System.arraycopy(PKCS8_PREFIX, 0, der, 0, PKCS8_PREFIX.length);
      System.arraycopy(seed, 0, der, PKCS8_PREFIX.length, SEED_LENGTH);
      PrivateKey priv = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(der));
      java.util.Arrays.fill(der, (byte) 0);
      return new Signer(SecretBytes.copyOf(seed), priv, PublicKey.fromJdk(pair.getPublic()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK's Ed25519 provider is unavailable", e);
    }
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
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(jdkKey);
      s.update(message);
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 signing failed", e);
    }
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

  /** A random source that yields one fixed seed, for deriving a key pair deterministically. */
  private static final class FixedSeed extends SecureRandom {
    private static final long serialVersionUID = 1L;
    private final byte[] seed;

    FixedSeed(byte[] seed) {
      this.seed = seed.clone();
    }

    @Override
    public void nextBytes(byte[] bytes) {
      if (bytes.length != seed.length) {
        throw new IllegalStateException("unexpected draw of " + bytes.length + " bytes");
      }
      System.arraycopy(seed, 0, bytes, 0, bytes.length);
    }
  }
}
