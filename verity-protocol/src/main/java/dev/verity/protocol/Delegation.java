package dev.verity.protocol;

import dev.verity.core.VerificationException;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.PublicKey;
import dev.verity.core.crypto.Signer;
import java.util.Set;

/**
 * An owner's signed grant letting another key publish and yank versions of one repository until a
 * time. Lets an owner keep its main key offline and give a CI key publishing rights.
 */
public final class Delegation {
  static final String DOMAIN = "verity/delegation/v1";

  private final PublicKey owner;
  private final PublicKey delegate;
  private final String repository;
  private final long expiresAtMillis;
  private final byte[] signature;

  private Delegation(PublicKey owner, PublicKey delegate, String repository, long expires, byte[] signature) {
    this.owner = owner;
    this.delegate = delegate;
    this.repository = Names.repository(repository);
    this.expiresAtMillis = expires;
    this.signature = signature.clone();
  }

  public static Delegation create(Signer owner, PublicKey delegate, String repository, long expiresAtMillis) {
    CborValue.Map body = body(owner.publicKey(), delegate, repository, expiresAtMillis);
    byte[] sig = owner.sign(Signing.message(DOMAIN, body));
    return new Delegation(owner.publicKey(), delegate, repository, expiresAtMillis, sig);
  }

  private static CborValue.Map body(PublicKey owner, PublicKey delegate, String repo, long expires) {
    return CborValue.Map.builder()
        .put("owner", owner.toBytes())
        .put("delegate", delegate.toBytes())
        .put("repository", repo)
        .put("expires", expires)
        .build();
  }

  /**
   * Checks the owner's signature and that the grant covers {@code repository} at {@code atMillis}.
   */
  public void verify(PublicKey expectedOwner, String repository, long atMillis) throws VerificationException {
    if (!owner.equals(expectedOwner)) {
      throw new VerificationException("delegation was granted by " + owner + ", not by the owner " + expectedOwner);
    }
    if (!this.repository.equals(repository)) {
      throw new VerificationException("delegation covers repository '" + this.repository + "', not '" + repository + "'");
    }
    if (atMillis > expiresAtMillis) {
      throw new VerificationException("delegation expired at " + java.time.Instant.ofEpochMilli(expiresAtMillis));
    }
    Signing.verify(DOMAIN, body(owner, delegate, this.repository, expiresAtMillis), signature, owner);
  }

  public PublicKey owner() {
    return owner;
  }

  public PublicKey delegate() {
    return delegate;
  }

  public String repository() {
    return repository;
  }

  public long expiresAtMillis() {
    return expiresAtMillis;
  }

  public CborValue.Map toCbor() {
    return CborValue.Map.builder()
        .put("owner", owner.toBytes())
        .put("delegate", delegate.toBytes())
        .put("repository", repository)
        .put("expires", expiresAtMillis)
        .put("signature", signature)
        .build();
  }

  public static Delegation fromCbor(CborValue.Map m) {
    m.requireOnly(Set.of("owner", "delegate", "repository", "expires", "signature"));
    return new Delegation(
        PublicKey.fromBytes(m.getBytes("owner")),
        PublicKey.fromBytes(m.getBytes("delegate")),
        m.getText("repository"),
        m.getLong("expires"),
        m.getBytes("signature"));
  }
}
