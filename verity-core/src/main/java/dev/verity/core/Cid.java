package dev.verity.core;

import java.util.Objects;

/**
 * A content identifier: CIDv1 with a sha2-256 multihash, written in lower-case base32 ("b..."). For a
 * single block with the {@link Codec#RAW} codec this is byte-for-byte the CID IPFS computes for the
 * same bytes. Structured Verity objects (manifests, receipts, chunk indexes) use {@link
 * Codec#DAG_CBOR}: their canonical encoding is deterministic CBOR, a subset of DAG-CBOR.
 */
public final class Cid implements Comparable<Cid> {
  /** The multicodecs Verity accepts. */
  public enum Codec {
    RAW(0x55),
    DAG_CBOR(0x71);

    private final int code;

    Codec(int code) {
      this.code = code;
    }

    public int code() {
      return code;
    }

    static Codec of(int code) {
      for (Codec c : values()) {
        if (c.code == code) {
          return c;
        }
      }
      throw new DecodingException("unsupported CID codec 0x" + Integer.toHexString(code));
    }
  }

  private static final int CID_V1 = 1;
  private static final int SHA2_256 = 0x12;
  /** Binary length: version, codec, hash function, digest length, digest. */
  public static final int BINARY_LENGTH = 4 + Hash.LENGTH;

  private final Codec codec;
  private final Hash digest;

  private Cid(Codec codec, Hash digest) {
    this.codec = Objects.requireNonNull(codec);
    this.digest = Objects.requireNonNull(digest);
  }

  public static Cid of(Codec codec, Hash digest) {
    return new Cid(codec, digest);
  }

  /** The CID of raw bytes, as IPFS names a single raw block. */
  public static Cid raw(byte[] data) {
    return new Cid(Codec.RAW, Hash.of(data));
  }

  /** The CID of an object's canonical CBOR encoding. */
  public static Cid dagCbor(byte[] canonicalCbor) {
    return new Cid(Codec.DAG_CBOR, Hash.of(canonicalCbor));
  }

  /** Parses the textual form; rejects anything but a base32 CIDv1 with a sha2-256 multihash. */
  public static Cid parse(String text) {
    if (text == null || text.isEmpty()) {
      throw new DecodingException("empty CID");
    }
    if (text.length() > 100) {
      throw new DecodingException("CID text too long: " + Hash.abbreviate(text));
    }
    if (text.charAt(0) != 'b') {
      throw new DecodingException(
          "CID must be CIDv1 in lower-case base32 (starting with 'b'): " + Hash.abbreviate(text));
    }
    return fromBytes(Base32.decode(text.substring(1)));
  }

  /** Decodes the binary form; rejects anything but a CIDv1 with a sha2-256 multihash. */
  public static Cid fromBytes(byte[] b) {
    if (b == null) {
      throw new DecodingException("no CID bytes");
    }
    if (b.length != BINARY_LENGTH) {
      throw new DecodingException(
          "binary CID must be " + BINARY_LENGTH + " bytes, got " + b.length);
    }
    if (b[0] != CID_V1) {
      throw new DecodingException("only CIDv1 is supported, got version " + (b[0] & 0xff));
    }
    Codec codec = Codec.of(b[1] & 0xff);
    if ((b[2] & 0xff) != SHA2_256 || (b[3] & 0xff) != Hash.LENGTH) {
      throw new DecodingException("only sha2-256 multihashes are supported");
    }
    byte[] d = new byte[Hash.LENGTH];
    System.arraycopy(b, 4, d, 0, Hash.LENGTH);
    return new Cid(codec, Hash.wrap(d));
  }

  public byte[] toBytes() {
    byte[] out = new byte[BINARY_LENGTH];
    out[0] = CID_V1;
    out[1] = (byte) codec.code;
    out[2] = SHA2_256;
    out[3] = Hash.LENGTH;
    System.arraycopy(digest.toBytes(), 0, out, 4, Hash.LENGTH);
    return out;
  }

  public Codec codec() {
    return codec;
  }

  public Hash digest() {
    return digest;
  }

  /** Checks that {@code data} is what this CID names. */
  public void verify(byte[] data) throws VerificationException {
    Hash actual = Hash.of(data);
    if (!actual.equals(digest)) {
      throw new VerificationException(
          "content does not match CID " + this + " (its sha2-256 is " + actual + ")");
    }
  }

  @Override
  public String toString() {
    return "b" + Base32.encode(toBytes());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cid c && codec == c.codec && digest.equals(c.digest);
  }

  @Override
  public int hashCode() {
    return 31 * codec.hashCode() + digest.hashCode();
  }

  @Override
  public int compareTo(Cid o) {
    int c = Integer.compare(codec.code, o.codec.code);
    return c != 0 ? c : digest.compareTo(o.digest);
  }
}
