package dev.verity.ledger;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.PublicKey;
import dev.verity.core.crypto.Signer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;

/**
 * A signed block header: the one value a light client needs to check anything about block {@link
 * #height()}. Immutable.
 *
 * <p>Canonical unsigned encoding (version 1): {@code {"v", "chain", "height", "prev", "txRoot",
 * "receiptsRoot", "stateRoot", "time", "txCount", "receiptCount", "sequencer"}}; the header's {@link #hash()} is
 * SHA-256 tagged "verity/header" of it and the sequencer signs those 32 bytes with Ed25519. The
 * signed encoding adds {@code "sig"}.
 *
 * <ul>
 *   <li>{@code prev}: hash of the header at {@code height - 1} (32 zero bytes at genesis)
 *   <li>{@code txRoot}: RFC 6962 Merkle root over the encoded signed transactions, in order
 *   <li>{@code receiptsRoot}: RFC 6962 Merkle root over the {@code receiptCount} receipt leaves
 *       committed in the block
 *   <li>{@code stateRoot}: the {@link StateTree} root after the block
 *   <li>{@code time}: milliseconds since the epoch, from the sequencer's clock; never decreasing.
 *       Informational: the state machine does not read it.
 * </ul>
 */
public final class BlockHeader {
  public static final int VERSION = 1;
  public static final Hash ZERO = Hash.wrap(new byte[Hash.LENGTH]);

  private final String chainId;
  private final long height;
  private final Hash previous;
  private final Hash txRoot;
  private final Hash receiptsRoot;
  private final Hash stateRoot;
  private final long timeMillis;
  private final int txCount;
  private final int receiptCount;
  private final PublicKey sequencer;
  private final byte[] signature;
  private final Hash hash;

  private BlockHeader(String chainId, long height, Hash previous, Hash txRoot, Hash receiptsRoot,
      Hash stateRoot, long timeMillis, int txCount, int receiptCount, PublicKey sequencer, byte[] signature) {
    if (height < 0 || timeMillis < 0 || txCount < 0 || receiptCount < 0) {
      throw new DecodingException("header height, time and counts must not be negative");
    }
    if (signature.length != Signer.SIGNATURE_LENGTH) {
      throw new DecodingException("a header signature has 64 bytes, got " + signature.length);
    }
    if (chainId.isEmpty() || chainId.length() > GenesisConfig.MAX_CHAIN_ID_CHARS) {
      throw new DecodingException("bad chain id in header");
    }
    this.chainId = chainId;
    this.height = height;
    this.previous = Objects.requireNonNull(previous);
    this.txRoot = Objects.requireNonNull(txRoot);
    this.receiptsRoot = Objects.requireNonNull(receiptsRoot);
    this.stateRoot = Objects.requireNonNull(stateRoot);
    this.timeMillis = timeMillis;
    this.txCount = txCount;
    this.receiptCount = receiptCount;
    this.sequencer = Objects.requireNonNull(sequencer);
    this.signature = signature;
    this.hash = Hash.tagged("verity/header", Cbor.encode(unsigned().build()));
  }

  /** Builds and signs a header. */
  public static BlockHeader sign(String chainId, long height, Hash previous, Hash txRoot,
      Hash receiptsRoot, Hash stateRoot, long timeMillis, int txCount, int receiptCount, Signer sequencer) {
    BlockHeader unsigned = new BlockHeader(chainId, height, previous, txRoot, receiptsRoot,
        stateRoot, timeMillis, txCount, receiptCount, sequencer.publicKey(), new byte[Signer.SIGNATURE_LENGTH]);
    byte[] sig = sequencer.sign(unsigned.hash.toBytes());
    return new BlockHeader(chainId, height, previous, txRoot, receiptsRoot, stateRoot, timeMillis,
        txCount, receiptCount, sequencer.publicKey(), sig);
  }

  public String chainId() { return chainId; }

  public long height() { return height; }

  public Hash previous() { return previous; }

  public Hash txRoot() { return txRoot; }

  public Hash receiptsRoot() { return receiptsRoot; }

  public Hash stateRoot() { return stateRoot; }

  public long timeMillis() { return timeMillis; }

  public int txCount() { return txCount; }

  /** Number of receipt leaves under {@link #receiptsRoot()}. */
  public int receiptCount() { return receiptCount; }

  public PublicKey sequencer() { return sequencer; }

  public byte[] signature() { return signature.clone(); }

  /** SHA-256 tagged "verity/header" of the unsigned encoding: what {@code prev} fields name. */
  public Hash hash() { return hash; }

  /**
   * Checks that {@code expectedSequencer} signed this header.
   *
   * @throws VerificationException if the header names another key or the signature is invalid
   */
  public void verifySignature(PublicKey expectedSequencer) throws VerificationException {
    if (!sequencer.equals(expectedSequencer)) {
      throw new VerificationException("header " + height + " is signed by " + sequencer
          + ", not by the sequencer " + expectedSequencer);
    }
    try {
      sequencer.verify(hash.toBytes(), signature);
    } catch (VerificationException e) {
      throw new VerificationException("header " + height + " has an invalid signature: " + e.getMessage(), e);
    }
  }

  private CborValue.Map.Builder unsigned() {
    return CborValue.Map.builder()
        .put("v", VERSION)
        .put("chain", chainId)
        .put("height", height)
        .put("prev", Fields.bytes(previous))
        .put("txRoot", Fields.bytes(txRoot))
        .put("receiptsRoot", Fields.bytes(receiptsRoot))
        .put("stateRoot", Fields.bytes(stateRoot))
        .put("time", timeMillis)
        .put("txCount", txCount)
        .put("receiptCount", receiptCount)
        .put("sequencer", Fields.bytes(sequencer));
  }

  public CborValue.Map toCbor() {
    return unsigned().put("sig", signature).build();
  }

  public byte[] encode() {
    return Cbor.encode(toCbor());
  }

  public static BlockHeader decode(byte[] bytes) {
    return fromCbor(Cbor.decodeMap(bytes));
  }

  public static BlockHeader fromCbor(CborValue.Map m) {
    m.requireOnly(Set.of("v", "chain", "height", "prev", "txRoot", "receiptsRoot", "stateRoot",
        "time", "txCount", "receiptCount", "sequencer", "sig"));
    if (m.getLong("v") != VERSION) {
      throw new DecodingException("unsupported header version " + m.getLong("v"));
    }
    return new BlockHeader(
        Fields.text(m, "chain", GenesisConfig.MAX_CHAIN_ID_CHARS),
        m.getLong("height"),
        Fields.hash(m, "prev"),
        Fields.hash(m, "txRoot"),
        Fields.hash(m, "receiptsRoot"),
        Fields.hash(m, "stateRoot"),
        m.getLong("time"),
        m.getInt("txCount"),
        m.getInt("receiptCount"),
        Fields.publicKey(m, "sequencer"),
        m.getBytes("sig"));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BlockHeader h && hash.equals(h.hash) && MessageDigest.isEqual(signature, h.signature);
  }

  @Override
  public int hashCode() {
    return hash.hashCode() * 31 + Arrays.hashCode(signature);
  }

  @Override
  public String toString() {
    return "BlockHeader[" + height + " " + hash + ", " + txCount + " txs, state " + stateRoot + "]";
  }
}
