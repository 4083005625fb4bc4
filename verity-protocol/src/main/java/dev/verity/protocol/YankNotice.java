package dev.verity.protocol;

import dev.verity.core.Cid;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.PublicKey;
import dev.verity.core.crypto.Signer;
import java.util.Set;

/**
 * An owner's (or delegate's) signed statement that a version must no longer be used for new
 * inference. The version itself stays immutable and readable; yanking only marks it.
 */
public final class YankNotice {
  static final String DOMAIN = "verity/yank/v1";
  private static final Set<String> FIELDS = Set.of("manifest", "reason", "time", "signer", Signing.SIGNATURE_FIELD);

  private final CborValue.Map body;
  private final byte[] signature;
  private final Cid manifest;
  private final String reason;
  private final long timeMillis;
  private final PublicKey signer;
  private final byte[] encoded;

  private YankNotice(CborValue.Map signed) {
    signed.requireOnly(FIELDS);
    this.encoded = Cbor.encode(signed);
    this.body = Signing.body(signed);
    this.signature = signed.getBytes(Signing.SIGNATURE_FIELD);
    this.manifest = Cid.fromBytes(signed.getBytes("manifest"));
    this.reason = Names.text("reason", signed.getText("reason"), 1000);
    this.timeMillis = signed.getLong("time");
    this.signer = PublicKey.fromBytes(signed.getBytes("signer"));
  }

  public static YankNotice create(Signer signer, ModelManifest manifest, String reason, long timeMillis) {
    CborValue.Map body = CborValue.Map.builder()
        .put("manifest", manifest.cid().toBytes())
        .put("reason", reason)
        .put("time", timeMillis)
        .put("signer", signer.publicKey().toBytes())
        .build();
    return new YankNotice(Signing.sign(DOMAIN, body, signer));
  }

  public static YankNotice decode(byte[] bytes) {
    return new YankNotice(Cbor.decodeMap(bytes));
  }

  /** Checks the signature and that the signer is the manifest's owner or its delegated publisher. */
  public void verify(ModelManifest m) throws VerificationException {
    if (!manifest.equals(m.cid())) {
      throw new VerificationException("yank notice is for another manifest");
    }
    boolean authorized = signer.equals(m.owner())
        || m.delegation().map(d -> d.delegate().equals(signer)).orElse(false);
    if (!authorized) {
      throw new VerificationException("only the owner or its delegate may yank " + m.repositoryId());
    }
    Signing.verify(DOMAIN, body, signature, signer);
  }

  public byte[] encode() {
    return encoded.clone();
  }

  public Cid manifest() { return manifest; }
  public String reason() { return reason; }
  public long timeMillis() { return timeMillis; }
  public PublicKey signer() { return signer; }
}
