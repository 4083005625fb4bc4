package dev.verity.ledger;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.BatchVerifier;
import dev.verity.core.crypto.PublicKey;
import dev.verity.core.crypto.Signer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Set;

/**
 * A transaction with the sender's Ed25519 signature over its id. Immutable. Encoded as {@code
 * {"tx": transaction map, "sig": 64 bytes}}, at most {@link #MAX_BYTES} bytes.
 *
 * <p>Decoding checks form only; {@link #verify()} checks the signature and is the only way to
 * obtain a {@link VerifiedTransaction}, the input of the state machine.
 */
public final class SignedTransaction {
  /** The largest encoded transaction the ledger accepts. */
  public static final int MAX_BYTES = 64 * 1024;

  private final Transaction tx;
  private final byte[] signature;
  private final byte[] body;
  private final Hash id;
  private volatile byte[] encoded;

  SignedTransaction(Transaction tx, byte[] signature, byte[] body, Hash id) {
    if (signature.length != Signer.SIGNATURE_LENGTH) {
      throw new DecodingException("an Ed25519 signature has 64 bytes, got " + signature.length);
    }
    this.tx = tx;
    this.signature = signature.clone();
    this.body = body;
    this.id = id;
  }

  /** Pairs a transaction with a signature made elsewhere (for example by a hardware key). */
  public static SignedTransaction of(Transaction tx, byte[] signature) {
    byte[] body = tx.encode();
    return new SignedTransaction(tx, signature, body, Transaction.idOf(body));
  }

  public Transaction tx() {
    return tx;
  }

  public byte[] signature() {
    return signature.clone();
  }

  /** The transaction's id: SHA-256 tagged "verity/tx" of the canonical unsigned encoding. */
  public Hash id() {
    return id;
  }

  /**
   * Checks the signature against the sender key the transaction names.
   *
   * @throws VerificationException if the signature is not the sender's over this transaction
   */
  public VerifiedTransaction verify() throws VerificationException {
    try {
      tx.sender().verify(id.toBytes(), signature);
    } catch (VerificationException e) {
      throw notSignedBySender(e);
    }
    return new VerifiedTransaction(this);
  }

  /**
   * Adds this transaction's signature check to {@code batch}, under {@code senderKey}: the sender's
   * key or an equal key object; returns its index there.
   */
  int addTo(BatchVerifier batch, PublicKey senderKey) {
    if (!senderKey.equals(tx.sender())) {
      throw new IllegalArgumentException("not this transaction's sender key");
    }
    return batch.add(senderKey, id.toBytes(), signature);
  }

  /** The exception {@link #verify()} throws when the sender's key refuses the signature with {@code e}. */
  VerificationException notSignedBySender(VerificationException e) {
    return new VerificationException("transaction " + id + " is not signed by its sender: " + e.getMessage(), e);
  }

  CborValue.Map toCbor() {
    return CborValue.Map.builder()
        .put("tx", tx.toCbor())
        .put("sig", signature)
        .build();
  }

  public byte[] encode() {
    byte[] e = encoded;
    if (e == null) {
      e = Cbor.encode(toCbor());
      encoded = e;
    }
    return e.clone();
  }

  /** Encoded size in bytes. */
  public int size() {
    if (encoded == null) {
      encode();
    }
    return encoded.length;
  }

  /**
   * Decodes a signed transaction, strictly; the signature is not checked.
   *
   * @throws DecodingException if the bytes are not exactly a canonical signed transaction
   */
  public static SignedTransaction decode(byte[] bytes) {
    if (bytes.length > MAX_BYTES) {
      throw new DecodingException(
          "transaction of " + bytes.length + " bytes exceeds the limit of " + MAX_BYTES);
    }
    SignedTransaction s = fromCbor(Cbor.decodeMap(bytes));
    s.encoded = bytes.clone();
    return s;
  }

  static SignedTransaction fromCbor(CborValue.Map m) {
    m.requireOnly(Set.of("tx", "sig"));
    Transaction tx = Transaction.fromCbor(m.getMap("tx"));
    byte[] body = tx.encode();
    return new SignedTransaction(tx, m.getBytes("sig"), body, Transaction.idOf(body));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SignedTransaction s
        && id.equals(s.id)
        && MessageDigest.isEqual(signature, s.signature);
  }

  @Override
  public int hashCode() {
    return 31 * id.hashCode() + Arrays.hashCode(signature);
  }

  @Override
  public String toString() {
    return "SignedTransaction[" + id + " " + tx.action().type() + " from " + tx.senderAddress()
        + " nonce " + tx.nonce() + "]";
  }
}
