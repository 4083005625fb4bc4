package dev.verity.protocol;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.PublicKey;
import dev.verity.core.crypto.Signer;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/**
 * Authenticates an HTTP request by the caller's key. The {@code Authorization} header reads
 *
 * <pre>Verity-Ed25519 key=ed25519:&lt;b32&gt;,time=&lt;unix millis&gt;,nonce=&lt;base64url&gt;,sig=&lt;base64url&gt;</pre>
 *
 * and the signature covers, with domain {@value #DOMAIN}, the canonical CBOR map {"method", "path"
 * (with query), "time", "nonce" ({@value #NONCE_BYTES} random bytes), "body" (SHA-256 of the body
 * bytes)}. A server accepts a signature only within {@link #MAX_SKEW_MILLIS} of its own clock, and a
 * state-changing request only once per key and nonce ({@link #replayKey()}). The nonce is what lets
 * one key send the same request twice in the same millisecond (a gateway forwarding two clients'
 * identical inferences) without the second looking like a replay of the first.
 */
public record RequestSignature(PublicKey key, long timeMillis, byte[] nonce, byte[] signature) {
  public static final String DOMAIN = "verity/http/v1";
  public static final String SCHEME = "Verity-Ed25519";
  public static final long MAX_SKEW_MILLIS = 5 * 60_000;
  public static final int NONCE_BYTES = 16;

  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * @throws IllegalArgumentException if the nonce is not {@value #NONCE_BYTES} bytes
   */
  public RequestSignature {
    if (nonce.length != NONCE_BYTES) {
      throw new IllegalArgumentException("a request nonce has " + NONCE_BYTES + " bytes, got " + nonce.length);
    }
    nonce = nonce.clone();
    signature = signature.clone();
  }

  /** Signs a request with a fresh random nonce. */
  public static RequestSignature sign(Signer signer, String method, String pathAndQuery, long timeMillis, Hash bodyHash) {
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    return sign(signer, method, pathAndQuery, timeMillis, nonce, bodyHash);
  }

  /** Signs a request with the given nonce; a caller must never use one nonce twice with one key. */
  public static RequestSignature sign(Signer signer, String method, String pathAndQuery, long timeMillis, byte[] nonce,
      Hash bodyHash) {
    if (nonce.length != NONCE_BYTES) {
      throw new IllegalArgumentException("a request nonce has " + NONCE_BYTES + " bytes, got " + nonce.length);
    }
    byte[] sig = signer.sign(Signing.message(DOMAIN, body(method, pathAndQuery, timeMillis, nonce, bodyHash)));
    return new RequestSignature(signer.publicKey(), timeMillis, nonce, sig);
  }

  private static CborValue.Map body(String method, String path, long time, byte[] nonce, Hash bodyHash) {
    return CborValue.Map.builder()
        .put("method", method)
        .put("path", path)
        .put("time", time)
        .put("nonce", nonce)
        .put("body", bodyHash.toBytes())
        .build();
  }

  @Override
  public byte[] nonce() {
    return nonce.clone();
  }

  @Override
  public byte[] signature() {
    return signature.clone();
  }

  /**
   * What identifies this signed request for replay checks: the hash of the key and the nonce. It
   * depends on neither the signature bytes (so a re-encoded signature over the same request is no
   * new request) nor the time.
   */
  public Hash replayKey() {
    byte[] k = key.toBytes();
    byte[] both = Arrays.copyOf(k, k.length + NONCE_BYTES);
    System.arraycopy(nonce, 0, both, k.length, NONCE_BYTES);
    return Hash.tagged("verity/http-nonce/v1", both);
  }

  public String toHeader() {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    return SCHEME + " key=" + key + ",time=" + timeMillis + ",nonce=" + b64.encodeToString(nonce) + ",sig="
        + b64.encodeToString(signature);
  }

  /** Parses an Authorization header value; throws DecodingException when malformed. */
  public static RequestSignature parse(String header) {
    if (header == null || !header.startsWith(SCHEME + " ") || header.length() > 512) {
      throw new DecodingException("Authorization must use the " + SCHEME + " scheme");
    }
    PublicKey key = null;
    Long time = null;
    byte[] nonce = null;
    byte[] sig = null;
    java.util.Set<String> named = new java.util.HashSet<>();
    for (String part : header.substring(SCHEME.length() + 1).split(",")) {
      int eq = part.indexOf('=');
      if (eq < 0) {
        throw new DecodingException("malformed Authorization parameter '" + part + "'");
      }
      String k = part.substring(0, eq).trim();
      String v = part.substring(eq + 1).trim();
      if (!named.add(k)) {
        throw new DecodingException("Authorization parameter '" + k + "' given twice");
      }
      switch (k) {
        case "key" -> key = PublicKey.parse(v);
        case "time" -> {
          try {
            time = Long.parseLong(v);
          } catch (NumberFormatException e) {
            throw new DecodingException("Authorization time must be unix milliseconds");
          }
        }
        case "nonce" -> {
          try {
            nonce = Base64.getUrlDecoder().decode(v);
          } catch (IllegalArgumentException e) {
            throw new DecodingException("Authorization nonce must be base64url");
          }
          if (nonce.length != NONCE_BYTES) {
            throw new DecodingException("Authorization nonce must be " + NONCE_BYTES + " bytes, got " + nonce.length);
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
    if (key == null || time == null || nonce == null || sig == null) {
      throw new DecodingException("Authorization needs key, time, nonce and sig");
    }
    return new RequestSignature(key, time, nonce, sig);
  }

  /**
   * Checks the signature over this request and that its time is within the allowed skew of {@code
   * nowMillis}.
   */
  public void verify(String method, String pathAndQuery, Hash bodyHash, long nowMillis) throws VerificationException {
    if (Math.abs(nowMillis - timeMillis) > MAX_SKEW_MILLIS) {
      throw new VerificationException("request signature time is more than 5 minutes away from the server's clock");
    }
    Signing.verify(DOMAIN, body(method, pathAndQuery, timeMillis, nonce, bodyHash), signature, key);
  }
}
