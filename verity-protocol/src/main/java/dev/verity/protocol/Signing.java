package dev.verity.protocol;

import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.PublicKey;
import dev.verity.core.crypto.Signer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.TreeMap;

/**
 * How Verity signs structured objects. The signed message is the domain tag in ASCII, one zero
 * byte, then the canonical CBOR of the object's fields without {@code "signature"}. The transmitted
 * object is the same map with {@code "signature"} (64 bytes) added; its CID is the dag-cbor CID of
 * that full encoding. Domain tags keep a signature on one kind of object from being valid for
 * another.
 */
public final class Signing {
  public static final String SIGNATURE_FIELD = "signature";

  private Signing() {}

  public static byte[] message(String domain, CborValue.Map body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(domain.getBytes(StandardCharsets.US_ASCII));
    out.write(0);
    out.writeBytes(Cbor.encode(body));
    return out.toByteArray();
  }

  /** The body with a signature by {@code signer} added. */
  public static CborValue.Map sign(String domain, CborValue.Map body, Signer signer) {
    if (body.has(SIGNATURE_FIELD)) {
      throw new IllegalArgumentException("body already carries a signature");
    }
    byte[] sig = signer.sign(message(domain, body));
    TreeMap<String, CborValue> all = new TreeMap<>(CborValue.Map.KEY_ORDER);
    all.putAll(body.entries());
    all.put(SIGNATURE_FIELD, new CborValue.Bytes(sig));
    CborValue.Map.Builder b = CborValue.Map.builder();
    all.forEach(b::put);
    return b.build();
  }

  /** Splits a signed map into its body (everything but the signature). */
  public static CborValue.Map body(CborValue.Map signed) {
    if (!signed.has(SIGNATURE_FIELD)) {
      throw new DecodingException("object carries no signature");
    }
    CborValue.Map.Builder b = CborValue.Map.builder();
    signed.entries().forEach((k, v) -> {
      if (!k.equals(SIGNATURE_FIELD)) {
        b.put(k, v);
      }
    });
    return b.build();
  }

  public static void verify(String domain, CborValue.Map body, byte[] signature, PublicKey key)
      throws VerificationException {
    key.verify(message(domain, body), signature);
  }
}
