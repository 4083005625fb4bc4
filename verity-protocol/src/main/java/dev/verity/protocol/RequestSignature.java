package dev.verity.protocol;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.PublicKey;
import dev.verity.core.crypto.Signer;
import java.util.Base64;

/**
 * Authenticates an HTTP request by the caller's key. The {@code Authorization} header reads
 *
 * <pre>Verity-Ed25519 key=ed25519:&lt;b32&gt;,time=&lt;unix millis&gt;,sig=&lt;base64url&gt;</pre>
 *
 * and the signature covers, with domain {@value #DOMAIN}, the canonical CBOR map {"method", "path"
 * (with query), "time", "body" (SHA-256 of the body bytes)}. A server accepts a signature only within
 * {@link #MAX_SKEW_MILLIS} of its own clock.
 */
public record RequestSignature(PublicKey key, long timeMillis, byte[] signature) {
  public static final String DOMAIN = "verity/http/v1";
  public static final String SCHEME = "Verity-Ed25519";
  public static final long MAX_SKEW_MILLIS = 5 * 60_000;

  public RequestSignature {
    signature = signature.clone();
  }

  public static RequestSignature sign(Signer signer, String method, String pathAndQuery, long timeMillis, Hash bodyHash) {
    byte[] sig = signer.sign(Signing.message(DOMAIN, body(method, pathAndQuery, timeMillis, bodyHash)));
    return new RequestSignature(signer.publicKey(), timeMillis, sig);
  }

  private static CborValue.Map body(String method, String path, long time, Hash bodyHash) {
    return CborValue.Map.builder()
        .put("method", method)
        .put("path", path)
        .put("time", time)
        .put("body", bodyHash.toBytes())
        .build();
  }

  public String toHeader() {
    return SCHEME + " key=" + key + ",time=" + timeMillis + ",sig="
        + Base64.getUrlEncoder().withoutPadding().encodeToString(signature);
  }

  /** Parses an Authorization header value; throws DecodingException when malformed. */
  public static RequestSignature parse(String header) {
    if (header == null || !header.startsWith(SCHEME + " ") || header.length() > 512) {
      throw new DecodingException("Authorization must use the " + SCHEME + " scheme");
    }
    PublicKey key = null;
    Long time = null;
    byte[] sig = null;
    for (String part : header.substring(SCHEME.length() + 1).split(",")) {
      int eq = part.indexOf('=');
      if (eq < 0) {
        throw new DecodingException("malformed Authorization parameter '" + part + "'");
      }
      String k = part.substring(0, eq).trim();
      String v = part.substring(eq + 1).trim();
      switch (k) {
        case "key" -> key = PublicKey.parse(v);
        case "time" -> {
          try {
            time = Long.parseLong(v);
          } catch (NumberFormatException e) {
            throw new DecodingException("Authorization time must be unix milliseconds");
          }
        }
        case "sig" -> {
          try {
            sig = Base64.getUrlDecoder().decode(v);
          } catch (IllegalArgumentException e) {
            throw new DecodingException("Authorization sig must be base64url");
          }
        }
        default -> throw new DecodingException("unknown Authorization parameter '" + k + "'");
      }
    }
    if (key == null || time == null || sig == null) {
      throw new DecodingException("Authorization needs key, time and sig");
    }
    return new RequestSignature(key, time, sig);
  }

  /**
   * Checks the signature over this request and that its time is within the allowed skew of {@code
   * nowMillis}.
   */
  public void verify(String method, String pathAndQuery, Hash bodyHash, long nowMillis) throws VerificationException {
    if (Math.abs(nowMillis - timeMillis) > MAX_SKEW_MILLIS) {
      throw new VerificationException("request signature time is more than 5 minutes away from the server's clock");
    }
    Signing.verify(DOMAIN, body(method, pathAndQuery, timeMillis, bodyHash), signature, key);
  }
}
